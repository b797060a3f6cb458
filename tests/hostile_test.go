package tests

// The hostile-input corpus: raw API requests (malformed, huge and oddly
// typed JSON, path traversal, bad query values, NUL and unicode) and bad
// CLI flag values, each with the status or exit code and the error text it
// must get. Every case must also leave nothing behind (no container record,
// no folder) and the daemon must still answer _ping. The tables are
// testdata/hostile/api.json and cli.json; cases that need generated bodies
// are added in code. Archives are unpack_hostile_test.go's.
//
// Not parallel: the leftover check counts every container of the daemon.

import (
	"bufio"
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"text/tabwriter"
	"time"
)

// apiCase is one raw request and the answer it must get.
type apiCase struct {
	Name   string `json:"name"`
	Method string `json:"method"`
	Path   string `json:"path"`
	// Body is sent as is (a JSON string, so "\u0000" is a NUL byte); JSON is
	// a body written as JSON, for readability.
	Body    *string         `json:"body,omitempty"`
	JSON    json.RawMessage `json:"json,omitempty"`
	Headers []string        `json:"headers,omitempty"` // "Key: value"
	Chunked bool            `json:"chunked,omitempty"` // no Content-Length
	Status  int             `json:"status"`
	// Message is the exact "message" of the error body; empty for answers
	// that are not Docker error bodies (431 from the HTTP server).
	Message string `json:"message"`

	gen    func() io.Reader // a generated body of length bytes
	length int64
}

// cliCase is one command and what each CLI must answer: the exit code and
// one line of stderr, with or without the "warren: "/"docker: " prefix.
// Warren and Docker override Stderr where the CLIs word a client-side flag
// error differently.
type cliCase struct {
	Name   string   `json:"name"`
	Args   []string `json:"args"`
	Code   int      `json:"code"`
	Stdout string   `json:"stdout,omitempty"` // what stdout must be (usually nothing)
	Stderr string   `json:"stderr"`
	Warren string   `json:"warren,omitempty"`
	Docker string   `json:"docker,omitempty"`
	// Only names the one CLI a case is for: docker's CLI pulls the image
	// after any 404 of create (a missing network too), which would leave
	// the machine.
	Only string `json:"only,omitempty"`
}

// The tables are embedded: the suite runs from a staged copy of the binary.
//
//go:embed testdata/hostile/*.json
var hostileTables embed.FS

func loadCases[T any](t *testing.T, file string) []T {
	t.Helper()
	data, err := hostileTables.ReadFile("testdata/hostile/" + file)
	if err != nil {
		t.Fatal(err)
	}
	var cases []T
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&cases); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return cases
}

// generatedCases are the bodies too large or too deep to write down.
func generatedCases() []apiCase {
	const limit = 4 << 20
	tooLarge := "request body too large: a JSON body may be at most 4 MiB"
	huge := func(n int64) func() io.Reader {
		return func() io.Reader {
			prefix := `{"Image":"busybox","Env":["X=`
			return io.MultiReader(strings.NewReader(prefix), io.LimitReader(repeatReader('a'), n-int64(len(prefix))))
		}
	}
	deep := strings.Repeat("[", 20000)
	return []apiCase{
		{Name: "create-body-5MiB-declared", Method: "POST", Path: "/containers/create?name=hostile-huge", Status: 413, Message: tooLarge,
			gen: huge(limit + 1<<20), length: limit + 1<<20},
		{Name: "create-body-5MiB-chunked", Method: "POST", Path: "/containers/create?name=hostile-huge", Chunked: true, Status: 413, Message: tooLarge,
			gen: huge(limit + 1<<20), length: limit + 1<<20},
		{Name: "create-body-300MB-declared", Method: "POST", Path: "/containers/create?name=hostile-huge", Status: 413, Message: tooLarge,
			gen: huge(300 << 20), length: 300 << 20},
		{Name: "exec-body-5MiB-declared", Method: "POST", Path: "/containers/hostile-nosuch/exec", Status: 413, Message: tooLarge,
			gen: huge(limit + 1<<20), length: limit + 1<<20},
		{Name: "create-json-nested-20000-deep", Method: "POST", Path: "/containers/create", Body: &deep, Status: 400,
			Message: "invalid JSON: invalid character '[' exceeded max depth"},
		{Name: "create-name-2MB-query", Method: "POST", Path: "/containers/create?name=" + strings.Repeat("a", 2<<20), Status: 431},
	}
}

type repeatReader byte

func (r repeatReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(r)
	}
	return len(p), nil
}

// rawHTTP sends one request over a daemon's socket exactly as given (no
// path cleaning) and returns the status and the error message of the body.
// The body is written while the answer is read, so a server that answers
// before reading it all does not stall the test.
func rawHTTP(t *testing.T, socket string, c apiCase) (int, string) {
	t.Helper()
	conn, err := net.Dial("unix", socket)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(2 * time.Minute))
	var body io.Reader
	length := int64(-1)
	switch {
	case c.gen != nil:
		body, length = c.gen(), c.length
	case c.Body != nil:
		body, length = strings.NewReader(*c.Body), int64(len(*c.Body))
	case c.JSON != nil:
		body, length = bytes.NewReader(c.JSON), int64(len(c.JSON))
	}
	var head strings.Builder
	fmt.Fprintf(&head, "%s %s HTTP/1.1\r\nHost: warren\r\nConnection: close\r\n", c.Method, c.Path)
	for _, h := range c.Headers {
		head.WriteString(h + "\r\n")
	}
	switch {
	case body != nil && c.Chunked:
		head.WriteString("Transfer-Encoding: chunked\r\n")
	case body != nil:
		fmt.Fprintf(&head, "Content-Length: %d\r\n", length)
	}
	if body != nil && !hasHeader(c.Headers, "Content-Type") {
		head.WriteString("Content-Type: application/json\r\n")
	}
	head.WriteString("\r\n")
	go func() {
		w := bufio.NewWriterSize(conn, 64<<10)
		_, _ = w.WriteString(head.String())
		if body != nil {
			if c.Chunked {
				cw := newChunkedWriter(w)
				_, _ = io.Copy(cw, body)
				_, _ = w.WriteString("0\r\n\r\n")
			} else {
				_, _ = io.Copy(w, body)
			}
		}
		_ = w.Flush()
	}()
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("%s %s: %v", c.Method, short(c.Path), err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	var e struct{ Message string }
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		_ = json.Unmarshal(data, &e)
	}
	return resp.StatusCode, e.Message
}

func hasHeader(headers []string, key string) bool {
	for _, h := range headers {
		if strings.HasPrefix(strings.ToLower(h), strings.ToLower(key)+":") {
			return true
		}
	}
	return false
}

type chunkedWriter struct{ w io.Writer }

func newChunkedWriter(w io.Writer) io.Writer { return chunkedWriter{w} }

func (c chunkedWriter) Write(p []byte) (int, error) {
	if _, err := fmt.Fprintf(c.w, "%x\r\n", len(p)); err != nil {
		return 0, err
	}
	n, err := c.w.Write(p)
	if err != nil {
		return n, err
	}
	_, err = io.WriteString(c.w, "\r\n")
	return n, err
}

// daemonState is what a failed request must not change.
type daemonState struct{ containers, folders int }

func stateOf(t *testing.T) daemonState {
	t.Helper()
	status, _ := rawHTTP(t, suite.socket, apiCase{Method: "GET", Path: "/_ping"})
	if status != http.StatusOK {
		t.Fatalf("the daemon no longer answers _ping: %d", status)
	}
	resp, err := unixClient(suite.socket, 30*time.Second).Get("http://warren/containers/json?all=1")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var list []json.RawMessage
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
		t.Fatal(err)
	}
	return daemonState{len(list), countEntries(t, filepath.Join(suite.dataDir, "containers"))}
}

// containerIDs lists every container of the suite's daemon.
func containerIDs(t *testing.T) map[string]bool {
	t.Helper()
	ids := map[string]bool{}
	for _, id := range strings.Fields(mustWarren(t, "ps", "-aq", "--no-trunc")) {
		ids[id] = true
	}
	return ids
}

// removeNew removes what a failing case left behind, so that one failure
// does not spill into the next cases.
func removeNew(t *testing.T, before map[string]bool) {
	for id := range containerIDs(t) {
		if !before[id] {
			runCmd(suite.bin, suite.env, nil, "rm", "-f", id)
		}
	}
}

func short(s string) string {
	if len(s) > 60 {
		return fmt.Sprintf("%s…(%d bytes)", s[:57], len(s))
	}
	return s
}

func TestHostileAPI(t *testing.T) {
	cases := append(loadCases[apiCase](t, "api.json"), generatedCases()...)
	var table bytes.Buffer
	tw := tabwriter.NewWriter(&table, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CASE\tREQUEST\tSTATUS\tMESSAGE")
	failed := 0
	for _, c := range cases {
		ok := t.Run(c.Name, func(t *testing.T) {
			before := stateOf(t)
			status, msg := rawHTTP(t, suite.socket, c)
			fmt.Fprintf(tw, "%s\t%s %s\t%d\t%s\n", c.Name, c.Method, short(c.Path), status, short(msg))
			if status != c.Status {
				t.Errorf("status %d, want %d (message %q)", status, c.Status, msg)
			}
			if msg != c.Message {
				t.Errorf("message %q, want %q", msg, c.Message)
			}
			if after := stateOf(t); after != before {
				t.Errorf("left behind: %+v before, %+v after", before, after)
			}
		})
		if !ok {
			failed++
		}
	}
	tw.Flush()
	t.Logf("%d API cases, %d failed:\n%s", len(cases), failed, table.String())
}

func TestHostileCLI(t *testing.T) {
	cases := loadCases[cliCase](t, "cli.json")
	var table bytes.Buffer
	tw := tabwriter.NewWriter(&table, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CASE\tCLI\tEXIT\tSTDERR")
	clis := []cli{warrenCLI}
	if suite.docker != "" {
		clis = append(clis, dockerCLI)
	}
	tried, failed := 0, 0
	for _, c := range cases {
		for _, client := range clis {
			if c.Only != "" && c.Only != client.name {
				continue
			}
			want := c.Stderr
			if client.name == "warren" && c.Warren != "" {
				want = c.Warren
			}
			if client.name == "docker" && c.Docker != "" {
				want = c.Docker
			}
			tried++
			ok := t.Run(c.Name+"/"+client.name, func(t *testing.T) {
				before := stateOf(t)
				ids := containerIDs(t)
				t.Cleanup(func() { removeNew(t, ids) })
				stdout, stderr, code := client.run(t, c.Args...)
				line := firstLine(stderr)
				fmt.Fprintf(tw, "%s\t%s\t%d\t%s\n", c.Name, client.name, code, short(line))
				if code != c.Code {
					t.Errorf("exit %d, want %d; stderr:\n%s", code, c.Code, stderr)
				}
				if !hasErrorLine(stderr, client.name, want) {
					t.Errorf("stderr lacks the line %q:\n%s", want, stderr)
				}
				if stdout != c.Stdout {
					t.Errorf("stdout %q, want %q", stdout, c.Stdout)
				}
				if after := stateOf(t); after != before {
					t.Errorf("left behind: %+v before, %+v after", before, after)
				}
			})
			if !ok {
				failed++
			}
		}
	}
	tw.Flush()
	t.Logf("%d CLI runs (%d cases), %d failed:\n%s", tried, len(cases), failed, table.String())
}

// hasErrorLine reports whether a line of stderr is want, alone or after the
// CLI's "name: " prefix.
func hasErrorLine(stderr, name, want string) bool {
	for l := range strings.Lines(stderr) {
		l = strings.TrimRight(l, "\r\n")
		if l == want || l == name+": "+want {
			return true
		}
	}
	return false
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return l
}
