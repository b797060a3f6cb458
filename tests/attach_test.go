package tests

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// hijacked is a raw attach or exec start connection.
type hijacked struct {
	conn        net.Conn
	r           *bufio.Reader
	contentType string
}

// hijack sends method path with body, upgrading as the docker CLI does,
// and reads the response head.
func hijack(t *testing.T, method, path string, body any) *hijacked {
	t.Helper()
	conn, err := net.Dial("unix", suite.socket)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	_ = conn.SetDeadline(time.Now().Add(60 * time.Second))
	var data []byte
	if body != nil {
		if data, err = json.Marshal(body); err != nil {
			t.Fatal(err)
		}
	}
	fmt.Fprintf(conn, "%s %s HTTP/1.1\r\nHost: warren\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", method, path, len(data), data)
	r := bufio.NewReader(conn)
	resp, err := http.ReadResponse(r, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("%s %s = %s %s", method, path, resp.Status, b)
	}
	return &hijacked{conn: conn, r: r, contentType: resp.Header.Get("Content-Type")}
}

// createExec creates an exec and returns its ID.
func createExec(t *testing.T, name string, tty bool, detachKeys string, cmd ...string) string {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"Cmd": cmd, "Tty": tty, "AttachStdin": true, "AttachStdout": true, "AttachStderr": true, "DetachKeys": detachKeys})
	req, _ := http.NewRequest("POST", "http://warren/v1.50/containers/"+name+"/exec", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := unixClient(suite.socket, 30*time.Second).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var created struct{ Id string }
	if err := json.NewDecoder(resp.Body).Decode(&created); err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("exec create: %s %v", resp.Status, err)
	}
	return created.Id
}

// TestExecStartTTYFraming: the start request's Tty decides the framing, as
// in Docker; the exec's own Tty does not.
func TestExecStartTTYFraming(t *testing.T) {
	t.Parallel()
	name, _ := runDetached(t, warrenCLI, "busybox", "sleep", "1000")
	// Created without a tty, started with one: the raw stdout only.
	id := createExec(t, name, false, "", "sh", "-c", "echo out; echo err >&2")
	h := hijack(t, "POST", "/v1.50/exec/"+id+"/start", map[string]any{"Tty": true})
	got, _ := io.ReadAll(h.r)
	if string(got) != "out\n" || h.contentType != "application/vnd.docker.raw-stream" {
		t.Errorf("Tty=false exec started with Tty=true: %s %q, want the raw %q", h.contentType, got, "out\n")
	}
	// Created with a tty, started without: the tty's output in stdout frames.
	id = createExec(t, name, true, "", "echo", "hi")
	h = hijack(t, "POST", "/v1.50/exec/"+id+"/start", map[string]any{"Tty": false})
	got, _ = io.ReadAll(h.r)
	want := "\x01\x00\x00\x00\x00\x00\x00\x04hi\r\n"
	if string(got) != want || h.contentType != "application/vnd.docker.multiplexed-stream" {
		t.Errorf("Tty=true exec started with Tty=false: %s %q, want %q", h.contentType, got, want)
	}
}

// TestExecDetachKeysNotEchoed: the detach keys typed into a tty exec end
// the stream, are not echoed by the tty, and the process keeps running.
func TestExecDetachKeysNotEchoed(t *testing.T) {
	t.Parallel()
	name, _ := runDetached(t, warrenCLI, "busybox", "sleep", "1000")
	id := createExec(t, name, true, "ctrl-x,y", "sh", "-c", "echo ready; exec sleep 1000")
	h := hijack(t, "POST", "/v1.50/exec/"+id+"/start", map[string]any{"Tty": true})
	line, err := h.r.ReadString('\n')
	if err != nil || line != "ready\r\n" {
		t.Fatalf("exec printed %q, %v", line, err)
	}
	if _, err := h.conn.Write([]byte("\x18y")); err != nil {
		t.Fatal(err)
	}
	rest, err := io.ReadAll(h.r) // the stream ends
	if err != nil || len(rest) != 0 {
		t.Errorf("after the detach keys the stream gave %q, %v; want its end and no echo", rest, err)
	}
	status, body := rawBody(t, suite.socket, "GET", "/v1.50/exec/"+id+"/json")
	if status != 200 || !strings.Contains(body, `"Running":true`) {
		t.Errorf("the exec after detaching: %d %s", status, body)
	}
}

// TestAttachDetachKeysCLI: `attach --detach-keys ctrl-x,y` ends with
// "read escape sequence" when the keys are typed, and the container runs on.
func TestAttachDetachKeysCLI(t *testing.T) {
	t.Parallel()
	bothCLIs(t, func(t *testing.T, c cli) {
		name, _ := runDetached(t, warrenCLI, "-it", "busybox", "sh")
		term := startTerminal(t, c, 24, 80, "attach", "--detach-keys", "ctrl-x,y", name)
		term.send("echo at$((1+1))\r")
		mark := term.expect(0, "at2\r\n")
		term.send("\x18y")
		term.expect(mark, "read escape sequence")
		if code := term.exit(); code != 1 {
			t.Errorf("attach after the detach keys: exit %d, output %q", code, term.output())
		}
		if state := inspectField(t, name, "{{.State.Status}}"); state != "running" {
			t.Errorf("container %s after detaching, want running", state)
		}
	})
}

// TestAttachDetachKeysAPI: the keys end a raw attach stream on the server
// side, without being passed to the container.
func TestAttachDetachKeysAPI(t *testing.T) {
	t.Parallel()
	name, _ := runDetached(t, warrenCLI, "-it", "busybox", "sh")
	h := hijack(t, "POST", "/v1.50/containers/"+name+"/attach?stream=1&stdin=1&stdout=1&stderr=1&detachKeys=ctrl-x,y", nil)
	fmt.Fprint(h.conn, "echo at$((1+1))\r")
	var out bytes.Buffer
	for !strings.Contains(out.String(), "at2\r\n") {
		b, err := h.r.ReadByte()
		if err != nil {
			t.Fatalf("attach output %q: %v", out.String(), err)
		}
		out.WriteByte(b)
	}
	if _, err := h.conn.Write([]byte("\x18y")); err != nil {
		t.Fatal(err)
	}
	if rest, err := io.ReadAll(h.r); err != nil || bytes.Contains(rest, []byte{0x18}) {
		t.Errorf("after the detach keys: %q, %v", rest, err)
	}
	if state := inspectField(t, name, "{{.State.Status}}"); state != "running" {
		t.Errorf("container %s after detaching, want running", state)
	}
}

// TestAttachLogsNoStream: logs=1&stream=0 on an exited container answers
// with the log and closes.
func TestAttachLogsNoStream(t *testing.T) {
	t.Parallel()
	name := container(t)
	mustWarren(t, "run", "--name", name, "busybox", "echo", "logged")
	h := hijack(t, "POST", "/v1.50/containers/"+name+"/attach?logs=1&stream=0&stdout=1&stderr=1", nil)
	got, err := io.ReadAll(h.r)
	want := "\x01\x00\x00\x00\x00\x00\x00\x07logged\n"
	if err != nil || string(got) != want {
		t.Errorf("attach logs=1&stream=0: %q, %v; want %q", got, err, want)
	}
}

// TestExecConsoleSize: a tty exec has the start's console size from its
// first instruction, else the create's, as in Docker.
func TestExecConsoleSize(t *testing.T) {
	t.Parallel()
	name, _ := runDetached(t, warrenCLI, "busybox", "sleep", "1000")
	for _, tt := range []struct {
		create, start []uint
		want          string
	}{
		{nil, []uint{30, 100}, "30 100\r\n"},
		{[]uint{20, 70}, nil, "20 70\r\n"},
		{[]uint{20, 70}, []uint{33, 99}, "33 99\r\n"},
	} {
		body, _ := json.Marshal(map[string]any{"Cmd": []string{"stty", "size"}, "Tty": true, "AttachStdout": true, "ConsoleSize": tt.create})
		req, _ := http.NewRequest("POST", "http://warren/v1.50/containers/"+name+"/exec", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		resp, err := unixClient(suite.socket, 30*time.Second).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var created struct{ Id string }
		err = json.NewDecoder(resp.Body).Decode(&created)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusCreated {
			t.Fatalf("exec create: %s %v", resp.Status, err)
		}
		h := hijack(t, "POST", "/v1.50/exec/"+created.Id+"/start", map[string]any{"Tty": true, "ConsoleSize": tt.start})
		got, _ := io.ReadAll(h.r)
		if string(got) != tt.want {
			t.Errorf("create %v, start %v: stty size printed %q, want %q", tt.create, tt.start, got, tt.want)
		}
	}
}
