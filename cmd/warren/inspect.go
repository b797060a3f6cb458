package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/template"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/client"
	"github.com/urfave/cli/v2"
)

// inspected is one object found by inspect: the typed value templates see
// first, and the raw JSON the daemon sent.
type inspected struct {
	typed any
	raw   []byte
}

func inspectCommand() *cli.Command {
	return &cli.Command{
		Name: "inspect", Usage: "Return low-level information on Docker objects",
		UsageText: "warren inspect [OPTIONS] NAME|ID [NAME|ID...]",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Usage: "Format output using a custom template"},
			&cli.BoolFlag{Name: "size", Aliases: []string{"s"}, Usage: "Display total file sizes if the type is container"},
			&cli.StringFlag{Name: "type", Usage: "Return JSON for specified type"},
		},
		Action: func(c *cli.Context) error {
			if err := requireMin(c, 1); err != nil {
				return err
			}
			kind := c.String("type")
			switch kind {
			case "", "container", "image":
			default:
				return fmt.Errorf("%q is not a valid value for --type", kind)
			}
			return inspectAll(c, func(api *client.Client, name string) (inspected, error) {
				return inspectObject(c.Context, api, name, kind, c.Bool("size"))
			})
		},
	}
}

// inspectObject looks name up as a container, then as an image, as
// `docker inspect` does when --type is not given.
func inspectObject(ctx context.Context, api *client.Client, name, kind string, size bool) (inspected, error) {
	if kind == "" || kind == "container" {
		res, err := api.ContainerInspect(ctx, name, client.ContainerInspectOptions{Size: size})
		if err == nil {
			return inspected{typed: res.Container, raw: res.Raw}, nil
		}
		if kind != "" || !cerrdefs.IsNotFound(err) {
			return inspected{}, err
		}
	}
	obj, err := inspectImage(ctx, api, name)
	if err != nil && kind == "" && cerrdefs.IsNotFound(err) {
		return inspected{}, fmt.Errorf("Error: No such object: %s", name)
	}
	return obj, err
}

func inspectImage(ctx context.Context, api *client.Client, name string) (inspected, error) {
	raw := &bytes.Buffer{}
	res, err := api.ImageInspect(ctx, name, client.ImageInspectWithRawResponse(raw))
	if err != nil {
		return inspected{}, err
	}
	return inspected{typed: res.InspectResponse, raw: raw.Bytes()}, nil
}

// inspectAll inspects every argument and prints the objects found, as a
// JSON array or through -f; misses go to stderr and make the exit status 1.
func inspectAll(c *cli.Context, get func(api *client.Client, name string) (inspected, error)) error {
	s, api, err := apiClient(c)
	if err != nil {
		return err
	}
	var objs []inspected
	var failed []string
	for _, name := range c.Args().Slice() {
		obj, err := get(api, name)
		if err != nil {
			failed = append(failed, err.Error())
			continue
		}
		objs = append(objs, obj)
	}
	if err := printInspected(s.out, c.String("format"), objs); err != nil {
		return err
	}
	if len(failed) > 0 {
		return statusError{status: 1, msg: strings.Join(failed, "\n")}
	}
	return nil
}

// printInspected renders inspect output: the raw JSON re-indented with four
// spaces as one array, or the template once per object.
func printInspected(out io.Writer, format string, objs []inspected) error {
	if format == "json" {
		format = "{{json .}}"
	}
	if format == "" {
		return printJSONArray(out, objs)
	}
	tmpl, err := parseTemplate(format)
	if err != nil {
		return err
	}
	for _, o := range objs {
		text, err := execInspectTemplate(tmpl, o)
		if err != nil {
			return err
		}
		fmt.Fprintln(out, text)
	}
	return nil
}

// printJSONArray prints the objects as docker does: the daemon's JSON
// decoded and re-encoded with sorted keys and four-space indents, so every
// field the engine sent shows (docker-behavior 5.3).
func printJSONArray(out io.Writer, objs []inspected) error {
	if len(objs) == 0 {
		_, err := io.WriteString(out, "[]\n")
		return err
	}
	all := make([]any, 0, len(objs))
	for _, o := range objs {
		var v any
		dec := json.NewDecoder(bytes.NewReader(o.raw))
		dec.UseNumber()
		if err := dec.Decode(&v); err != nil {
			return fmt.Errorf("decode the inspect output: %w", err)
		}
		all = append(all, v)
	}
	b, err := json.MarshalIndent(all, "", "    ")
	if err != nil {
		return fmt.Errorf("encode the inspect output: %w", err)
	}
	_, err = out.Write(append(b, '\n'))
	return err
}

// execInspectTemplate runs the template on the typed object and, when that
// fails (a field the typed struct lacks, such as the API 1.50
// NetworkSettings.IPAddress), on the raw JSON, as docker does.
func execInspectTemplate(tmpl *template.Template, o inspected) (string, error) {
	buf := &bytes.Buffer{}
	err := tmpl.Execute(buf, o.typed)
	if err == nil {
		return buf.String(), nil
	}
	if o.raw == nil {
		return "", fmt.Errorf("template parsing error: %w", err)
	}
	var raw map[string]any
	dec := json.NewDecoder(bytes.NewReader(o.raw))
	dec.UseNumber()
	if derr := dec.Decode(&raw); derr != nil {
		return "", fmt.Errorf("template parsing error: %w", err)
	}
	buf.Reset()
	if err := tmpl.Option("missingkey=error").Execute(buf, raw); err != nil {
		return "", fmt.Errorf("template parsing error: %w", err)
	}
	return buf.String(), nil
}
