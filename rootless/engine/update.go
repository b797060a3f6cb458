package engine

import (
	"context"
	"fmt"
	"reflect"
	"strings"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	eventtypes "github.com/moby/moby/api/types/events"
)

// ContainerUpdate is POST /containers/{id}/update. Only the restart
// policy is applied; resource limits are refused by name rather than
// dropped, until the engine applies them.
func (e *Engine) ContainerUpdate(ctx context.Context, name string, req *container.UpdateConfig) (container.UpdateResponse, error) {
	c, err := e.lookup(name)
	if err != nil {
		return container.UpdateResponse{}, err
	}
	if set := setResources(req.Resources); len(set) > 0 {
		return container.UpdateResponse{}, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf(
			"Cannot update container %s: warren does not apply resource limits yet (%s); only --restart can be updated",
			c.rec.ID, strings.Join(set, ", ")))
	}
	if req.RestartPolicy.Name == "" {
		c.event(eventtypes.ActionUpdate)
		return container.UpdateResponse{}, nil // moby keeps the policy
	}
	if err := container.ValidateRestartPolicy(req.RestartPolicy); err != nil {
		return container.UpdateResponse{}, errdefs.ErrInvalidArgument.WithMessage(err.Error())
	}
	if err := c.setPolicy(req.RestartPolicy); err != nil {
		return container.UpdateResponse{}, fmt.Errorf("Cannot update container %s: %w", c.rec.ID, err)
	}
	c.event(eventtypes.ActionUpdate)
	return container.UpdateResponse{}, nil
}

// setResources names the Resources fields that are set (not zero).
func setResources(r container.Resources) []string {
	var set []string
	v := reflect.ValueOf(r)
	for i := range v.NumField() {
		if !v.Field(i).IsZero() {
			set = append(set, v.Type().Field(i).Name)
		}
	}
	return set
}
