// Package names owns Docker's container-name rules: validation of names
// given with --name and the adjective_surname names made up when none is.
package names

import (
	"fmt"
	"math/rand/v2"
	"regexp"
	"strconv"
	"strings"

	"github.com/containerd/errdefs"
)

// validName is Docker's rule (daemon/names), applied after one leading "/"
// is stripped; it needs at least two characters.
var validName = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]+$`)

// Normalize checks a name given by the user and returns its stored form with
// the leading slash ("web" and "/web" → "/web"). A bad name gives Docker's
// 400 error quoting the name as given.
func Normalize(name string) (string, error) {
	if !validName.MatchString(strings.TrimPrefix(name, "/")) {
		return "", errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf(
			"Invalid container name (%s), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed", name))
	}
	return "/" + strings.TrimPrefix(name, "/"), nil
}

// Random returns a name such as "focused_turing"; with retry > 0 one random
// digit is appended ("focused_turing3"), as Docker's GetRandomName does.
func Random(retry int) string {
	for {
		name := left[rand.IntN(len(left))] + "_" + right[rand.IntN(len(right))]
		if name == "boring_wozniak" { // Steve Wozniak is not boring (Docker's rule)
			continue
		}
		if retry > 0 {
			name += strconv.Itoa(rand.IntN(10))
		}
		return name
	}
}

// Generate picks a free name the way Docker's generateAndReserveName does:
// a plain random name, then up to five with a digit, then the short ID.
// reserve tries to claim a stored-form name ("/x") and reports success.
func Generate(id string, reserve func(name string) bool) string {
	return generate(id, reserve, Random)
}

func generate(id string, reserve func(string) bool, random func(int) string) string {
	for i := 0; i < 6; i++ {
		if name := "/" + random(i); reserve(name) {
			return name
		}
	}
	name := "/" + ShortID(id)
	reserve(name)
	return name
}

// ShortID is the 12-character form of an ID that Docker prints.
func ShortID(id string) string {
	id = strings.TrimPrefix(id, "sha256:")
	if len(id) > 12 {
		return id[:12]
	}
	return id
}
