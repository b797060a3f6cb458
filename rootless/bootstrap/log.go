package bootstrap

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"sort"

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

// debugWriter turns the drivers' log writers into debug lines with a label.
type debugWriter struct{ label string }

var _ io.Writer = debugWriter{}

func (w debugWriter) Write(p []byte) (int, error) {
	logrus.Debugf("%s: %s", w.label, bytes.TrimRight(p, "\n"))
	return len(p), nil
}
