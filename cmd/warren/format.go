package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"text/template"
)

// templateFuncs are the functions docker offers in --format templates
// (c:templates/templates.go).
var templateFuncs = template.FuncMap{
	"json": func(v any) string {
		buf := &bytes.Buffer{}
		enc := json.NewEncoder(buf)
		enc.SetEscapeHTML(false)
		_ = enc.Encode(v)
		return strings.TrimSpace(buf.String())
	},
	"split": strings.Split,
	"join":  strings.Join,
	//lint:ignore SA1019 docker's "title" is strings.Title; keep its output.
	"title":    strings.Title,
	"lower":    strings.ToLower,
	"upper":    strings.ToUpper,
	"pad":      padWithSpace,
	"truncate": truncateWithLength,
}

// headerFuncs render table headers: every function returns its argument,
// so "{{upper .Names}}" still prints the NAMES header.
var headerFuncs = template.FuncMap{
	"json":     func(v string) string { return v },
	"split":    func(v string, _ string) string { return v },
	"join":     func(v string, _ string) string { return v },
	"title":    func(v string) string { return v },
	"lower":    func(v string) string { return v },
	"upper":    func(v string) string { return v },
	"pad":      func(v string, _, _ int) string { return v },
	"truncate": func(v string, _ int) string { return v },
}

func padWithSpace(source string, prefix, suffix int) string {
	if source == "" {
		return source
	}
	return strings.Repeat(" ", prefix) + source + strings.Repeat(" ", suffix)
}

func truncateWithLength(source string, length int) string {
	if len(source) < length {
		return source
	}
	return source[:length]
}

// parseTemplate parses a --format template with docker's functions and
// error text.
func parseTemplate(format string) (*template.Template, error) {
	t, err := template.New("").Funcs(templateFuncs).Parse(format)
	if err != nil {
		return nil, fmt.Errorf("template parsing error: %w", err)
	}
	return t, nil
}

const tableKey = "table"

// listFormat is a --format value resolved as docker's formatter.Context
// does: "table ..." prints a header and aligns columns, "json" is one JSON
// object per line, anything else is a plain template per item.
type listFormat struct {
	table bool
	text  string
}

func resolveFormat(format, defaultTable string) listFormat {
	switch {
	case format == "" || format == tableKey:
		format = defaultTable
	case format == "json":
		format = "{{json .}}"
	}
	f := listFormat{}
	if strings.HasPrefix(format, tableKey) {
		f.table = true
		format = format[len(tableKey):]
	}
	format = strings.Trim(format, " ")
	f.text = strings.NewReplacer(`\t`, "\t", `\n`, "\n").Replace(format)
	return f
}

// write renders items (each a value the template reads) and, for tables,
// the header from header (column name -> title), with docker's tabwriter
// settings.
func (f listFormat) write(out io.Writer, header map[string]string, items []any) error {
	tmpl, err := parseTemplate(f.text)
	if err != nil {
		return err
	}
	body := &bytes.Buffer{}
	for _, it := range items {
		if err := tmpl.Execute(body, it); err != nil {
			return fmt.Errorf("template: %w", err)
		}
		body.WriteString("\n")
	}
	if !f.table {
		_, err := body.WriteTo(out)
		return err
	}
	w := tabwriter.NewWriter(out, 10, 1, 3, ' ', 0)
	head := &bytes.Buffer{}
	if err := tmpl.Funcs(headerFuncs).Execute(head, header); err != nil {
		return fmt.Errorf("template: %w", err)
	}
	head.WriteString("\n")
	w.Write(head.Bytes())
	body.WriteTo(w)
	return w.Flush()
}
