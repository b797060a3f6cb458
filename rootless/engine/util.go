package engine

import (
	"strconv"
	"strings"
)

func itoa(n int) string { return strconv.Itoa(n) }

func splitLines(s string) []string { return strings.Split(s, "\n") }

func cutPrefix(s, prefix string) (string, bool) { return strings.CutPrefix(s, prefix) }
