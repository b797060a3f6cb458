package api

import (
	"bytes"
	"strings"
	"testing"

	"github.com/moby/moby/api/pkg/stdcopy"
)

func TestStreamContentType(t *testing.T) {
	tests := []struct {
		version string
		tty     bool
		want    string
	}{
		{"1.50", false, "application/vnd.docker.multiplexed-stream"},
		{"1.42", false, "application/vnd.docker.multiplexed-stream"},
		{"1.41", false, "application/vnd.docker.raw-stream"},
		{"1.50", true, "application/vnd.docker.raw-stream"},
	}
	for _, tt := range tests {
		if got := streamContentType(tt.version, tt.tty); got != tt.want {
			t.Errorf("streamContentType(%q, %v) = %q, want %q", tt.version, tt.tty, got, tt.want)
		}
	}
}

// TestStdWriterFraming checks the framing against the api module's reader.
func TestStdWriterFraming(t *testing.T) {
	var buf bytes.Buffer
	out, errOut := outputStreams(&buf, false, true, true)
	_, _ = out.Write([]byte("hello\n"))
	_, _ = errOut.Write([]byte("oops\n"))
	_, _ = out.Write(nil) // an empty write must not produce a frame
	_, _ = out.Write([]byte("bye\n"))

	if got := buf.Bytes()[:8]; !bytes.Equal(got, []byte{1, 0, 0, 0, 0, 0, 0, 6}) {
		t.Errorf("first header = %v", got)
	}
	var stdout, stderr bytes.Buffer
	if _, err := stdcopy.StdCopy(&stdout, &stderr, &buf); err != nil {
		t.Fatal(err)
	}
	if stdout.String() != "hello\nbye\n" || stderr.String() != "oops\n" {
		t.Errorf("demuxed stdout %q stderr %q", stdout.String(), stderr.String())
	}
}

func TestStreamWriteErrorIsSystemFrame(t *testing.T) {
	var buf bytes.Buffer
	streamWriteError(&buf, false, "boom")
	_, err := stdcopy.StdCopy(&bytes.Buffer{}, &bytes.Buffer{}, &buf)
	if err == nil || !strings.Contains(err.Error(), "boom") {
		t.Errorf("StdCopy error = %v, want the system error", err)
	}
}

func TestOutputStreamsTTY(t *testing.T) {
	var buf bytes.Buffer
	out, errOut := outputStreams(&buf, true, true, false)
	if errOut != nil {
		t.Error("stderr not requested but given")
	}
	_, _ = out.Write([]byte("raw"))
	if buf.String() != "raw" {
		t.Errorf("tty output %q, want raw bytes", buf.String())
	}
}
