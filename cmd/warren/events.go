package main

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/template"
	"time"

	"github.com/moby/moby/api/types/events"
	"github.com/moby/moby/client"
	"github.com/urfave/cli/v2"
)

func eventsCommand() *cli.Command {
	return &cli.Command{
		Name: "events", Usage: "Get real time events from the server",
		UsageText: "warren events [OPTIONS]",
		Flags: []cli.Flag{
			&cli.StringSliceFlag{Name: "filter", Aliases: []string{"f"}, Usage: "Filter output based on conditions provided"},
			&cli.StringFlag{Name: "format", Usage: "Format output using a custom template"},
			&cli.StringFlag{Name: "since", Usage: "Show all events created since timestamp"},
			&cli.StringFlag{Name: "until", Usage: "Stream events until this timestamp"},
		},
		Action: eventsAction,
	}
}

func eventsAction(c *cli.Context) error {
	if err := requireNone(c); err != nil {
		return err
	}
	tmpl, err := eventTemplate(c.String("format"))
	if err != nil {
		return statusError{status: 64, msg: "Error parsing format: " + err.Error()}
	}
	filters, err := parseFilters(c.StringSlice("filter"))
	if err != nil {
		return err
	}
	s, api, err := apiClient(c)
	if err != nil {
		return err
	}
	// The client turns durations and dates into the API's unix seconds.
	res := api.Events(c.Context, client.EventsListOptions{Since: c.String("since"), Until: c.String("until"), Filters: filters})
	for {
		select {
		case m := <-res.Messages:
			if err := printEvent(s.out, m, tmpl); err != nil {
				return err
			}
		case err := <-res.Err:
			if errors.Is(err, io.EOF) || c.Context.Err() != nil {
				return nil // the stream's end, or the user's interrupt
			}
			return err
		}
	}
}

// eventTemplate is docker's: none prints the default line, "json" is
// {{json .}}; a template is tried on an empty event so a bad field fails
// before anything is printed.
func eventTemplate(format string) (*template.Template, error) {
	switch format {
	case "":
		return nil, nil
	case "json":
		format = "{{json .}}"
	}
	t, err := template.New("").Funcs(templateFuncs).Parse(format)
	if err != nil {
		return nil, err
	}
	return t, t.Execute(io.Discard, &events.Message{})
}

// rfc3339NanoFixed pads the nanoseconds, as docker's event lines do.
const rfc3339NanoFixed = "2006-01-02T15:04:05.000000000Z07:00"

// printEvent writes one event as docker's CLI does: "<local time> <type>
// <action> <actor ID> (k=v, ...)" with the attributes sorted by key.
func printEvent(out io.Writer, m events.Message, tmpl *template.Template) error {
	if tmpl != nil {
		if err := tmpl.Execute(out, m); err != nil {
			return err
		}
		_, err := io.WriteString(out, "\n")
		return err
	}
	var b strings.Builder
	switch {
	case m.TimeNano != 0:
		b.WriteString(time.Unix(0, m.TimeNano).Format(rfc3339NanoFixed) + " ")
	case m.Time != 0:
		b.WriteString(time.Unix(m.Time, 0).Format(rfc3339NanoFixed) + " ")
	}
	fmt.Fprintf(&b, "%s %s %s", m.Type, m.Action, m.Actor.ID)
	if len(m.Actor.Attributes) > 0 {
		attrs := []string{}
		for _, k := range slices.Sorted(maps.Keys(m.Actor.Attributes)) {
			attrs = append(attrs, k+"="+m.Actor.Attributes[k])
		}
		fmt.Fprintf(&b, " (%s)", strings.Join(attrs, ", "))
	}
	b.WriteString("\n")
	_, err := io.WriteString(out, b.String())
	return err
}
