package bootstrap

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/sirupsen/logrus"
)

// logPrefix starts every line the daemon logs, RootlessKit's included, so
// that its lines stand out in daemon.log beside the engine's.
const logPrefix = "warren daemon: "

// setupLogging routes RootlessKit's logrus output to stderr in warren's
// one-line format.
func setupLogging(debug bool) {
	logrus.SetOutput(os.Stderr)
	logrus.SetFormatter(lineFormatter{})
	if debug {
		logrus.SetLevel(logrus.DebugLevel)
	} else {
		logrus.SetLevel(logrus.InfoLevel)
	}
}

// lineFormatter prints "warren daemon: [level: ]message k=v…".
type lineFormatter struct{}

func (lineFormatter) Format(e *logrus.Entry) ([]byte, error) {
	if benign(e) {
		return nil, nil
	}
	var b bytes.Buffer
	b.WriteString(logPrefix)
	if e.Level != logrus.InfoLevel {
		b.WriteString(e.Level.String() + ": ")
	}
	b.WriteString(e.Message)
	keys := make([]string, 0, len(e.Data))
	for k := range e.Data {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, " %s=%v", k, e.Data[k])
	}
	b.WriteByte('\n')
	return b.Bytes(), nil
}

// benign tells the errors that are not: gvisor-tap-vsock logs the end of
// the child's tap stream, which happens at every shutdown, as an error.
func benign(e *logrus.Entry) bool {
	return strings.HasPrefix(e.Message, "cannot receive packets from") && strings.HasSuffix(e.Message, "EOF")
}

// debugWriter turns the drivers' log writers into debug lines with a label.
type debugWriter struct{ label string }

var _ io.Writer = debugWriter{}

func (w debugWriter) Write(p []byte) (int, error) {
	logrus.Debugf("%s: %s", w.label, bytes.TrimRight(p, "\n"))
	return len(p), nil
}
