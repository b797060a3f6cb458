package api

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"testing"
	"time"

	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
)

// TestNoGoroutinesLeftBehind runs many attach/wait/logs cycles and checks
// that the handler leaves no goroutine behind once the clients are gone.
func TestNoGoroutinesLeftBehind(t *testing.T) {
	sock := serve(t, newFakeBackend())
	ctx := testContext(t)
	before := runtime.NumGoroutine()

	c, err := client.New(client.WithHost("unix://" + sock))
	if err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		name := fmt.Sprint("c", i)
		if _, err := c.ContainerCreate(ctx, client.ContainerCreateOptions{Name: name, Config: &container.Config{Image: "busybox", Cmd: []string{"echo", name}}}); err != nil {
			t.Fatal(err)
		}
		att, err := c.ContainerAttach(ctx, name, client.ContainerAttachOptions{Stream: true, Stdout: true, Stderr: true})
		if err != nil {
			t.Fatal(err)
		}
		wait := c.ContainerWait(ctx, name, client.ContainerWaitOptions{Condition: container.WaitConditionNextExit})
		if _, err := c.ContainerStart(ctx, name, client.ContainerStartOptions{}); err != nil {
			t.Fatal(err)
		}
		if _, err := stdcopy.StdCopy(io.Discard, io.Discard, att.Reader); err != nil {
			t.Fatal(err)
		}
		att.Close()
		<-wait.Result
		logs, err := c.ContainerLogs(ctx, name, client.ContainerLogsOptions{ShowStdout: true})
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, logs)
		logs.Close()
	}
	c.Close()

	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines before, %d after:\n%s", before, runtime.NumGoroutine(), buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestClientGoneCancelsWait checks that a client hanging up on a wait
// cancels the engine's wait through the request context.
func TestClientGoneCancelsWait(t *testing.T) {
	fake := newFakeBackend()
	c := newClient(t, serve(t, fake))
	ctx := testContext(t)
	if _, err := c.ContainerCreate(ctx, client.ContainerCreateOptions{Name: "idle", Config: &container.Config{Image: "busybox"}}); err != nil {
		t.Fatal(err)
	}
	waitCtx, cancel := context.WithCancel(ctx)
	wait := c.ContainerWait(waitCtx, "idle", client.ContainerWaitOptions{})
	<-fake.waitStarted
	cancel()
	if err := <-wait.Error; !errors.Is(err, context.Canceled) {
		t.Fatalf("wait error %v", err)
	}
	select {
	case <-fake.waitCanceled:
	case <-ctx.Done():
		t.Fatal("the engine's wait outlived the client")
	}
}
