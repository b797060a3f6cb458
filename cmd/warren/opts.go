package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/moby/moby/api/types/container"
)

// readEnvFiles reads --env-file files the way docker does
// (c:opts/envfile.go): KEY=VALUE lines, values kept verbatim (no quotes
// processing), lines starting with # and blank lines skipped, a bare KEY
// taken from the caller's environment if set there.
func readEnvFiles(files []string, lookup func(string) (string, bool)) ([]string, error) {
	var env []string
	for _, f := range files {
		lines, err := parseEnvFile(f, lookup)
		if err != nil {
			return nil, err
		}
		env = append(env, lines...)
	}
	return env, nil
}

func parseEnvFile(name string, lookup func(string) (string, bool)) ([]string, error) {
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	return parseEnvLines(name, data, lookup)
}

const envWhiteSpaces = " \t"

func parseEnvLines(name string, data []byte, lookup func(string) (string, bool)) ([]string, error) {
	var lines []string
	scanner := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; scanner.Scan(); n++ {
		raw := scanner.Bytes()
		if !utf8.Valid(raw) {
			return nil, fmt.Errorf("env file %s contains invalid utf8 bytes at line %d: %v", name, n, raw)
		}
		if n == 1 {
			raw = bytes.TrimPrefix(raw, []byte{0xEF, 0xBB, 0xBF})
		}
		line := strings.TrimLeftFunc(string(raw), unicode.IsSpace)
		if line == "" || line[0] == '#' {
			continue
		}
		key, value, hasValue := strings.Cut(line, "=")
		if key == "" {
			return nil, fmt.Errorf("no variable name on line '%s'", line)
		}
		key = strings.TrimLeft(key, envWhiteSpaces)
		if strings.ContainsAny(key, envWhiteSpaces) {
			return nil, fmt.Errorf("poorly formatted environment: variable '%s' contains whitespaces", key)
		}
		switch {
		case hasValue:
			lines = append(lines, key+"="+value)
		default:
			if v, ok := lookup(key); ok {
				lines = append(lines, key+"="+v)
			} else {
				lines = append(lines, key)
			}
		}
	}
	return lines, scanner.Err()
}

// validateEnv is docker's check of one -e value: a bare KEY takes the
// caller's value when it has one (c:opts/env.go ValidateEnv).
func validateEnv(val string, lookup func(string) (string, bool)) (string, error) {
	key, _, hasValue := strings.Cut(val, "=")
	if key == "" {
		return "", errors.New("invalid environment variable: " + val)
	}
	if hasValue {
		return val, nil
	}
	if v, ok := lookup(key); ok {
		return key + "=" + v, nil
	}
	return val, nil
}

// normalizeCaps upper-cases capability names, adds the CAP_ prefix and drops
// duplicates, as the docker CLI does before sending them.
func normalizeCaps(caps []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, c := range caps {
		c = strings.ToUpper(strings.TrimSpace(c))
		if c != "ALL" && !strings.HasPrefix(c, "CAP_") {
			c = "CAP_" + c
		}
		if seen[c] {
			continue
		}
		seen[c] = true
		out = append(out, c)
	}
	return out
}

// parseRestartPolicy parses --restart name[:max-retries] (c:opts/parse.go).
func parseRestartPolicy(policy string) (container.RestartPolicy, error) {
	var p container.RestartPolicy
	if policy == "" {
		return p, nil
	}
	name, count, ok := strings.Cut(policy, ":")
	if ok && name == "" {
		return p, errors.New("invalid restart policy format: no policy provided before colon")
	}
	if count != "" {
		n, err := strconv.Atoi(count)
		if err != nil {
			return p, errors.New("invalid restart policy format: maximum retry count must be an integer")
		}
		p.MaximumRetryCount = n
	}
	p.Name = container.RestartPolicyMode(name)
	return p, nil
}

// parseLabels turns -l key=value values into the label map; a bare key gets
// an empty value.
func parseLabels(labels []string) map[string]string {
	m := map[string]string{}
	for _, l := range labels {
		k, v, _ := strings.Cut(l, "=")
		m[k] = v
	}
	return m
}

// validateExtraHost checks --add-host name:ip (or name=ip); host-gateway is
// resolved by the daemon.
func validateExtraHost(val string) (string, error) {
	name, ip, ok := strings.Cut(val, "=")
	if !ok {
		name, ip, ok = strings.Cut(val, ":")
	}
	if !ok || name == "" {
		return "", fmt.Errorf("bad format for add-host: %q", val)
	}
	if ip == "host-gateway" {
		return name + ":" + ip, nil
	}
	addr := strings.TrimSuffix(strings.TrimPrefix(ip, "["), "]")
	if _, err := netip.ParseAddr(addr); err != nil {
		return "", fmt.Errorf("invalid IP address in add-host: %q", ip)
	}
	return name + ":" + addr, nil
}

// parseDNS parses --dns addresses.
func parseDNS(vals []string) ([]netip.Addr, error) {
	out := []netip.Addr{}
	for _, v := range vals {
		a, err := netip.ParseAddr(v)
		if err != nil {
			return nil, fmt.Errorf("IP address is not correctly formatted: %s", v)
		}
		out = append(out, a)
	}
	return out, nil
}

// parseAttach validates -a stream names.
func parseAttach(vals []string) (stdin, stdout, stderr bool, err error) {
	for _, v := range vals {
		switch strings.ToLower(v) {
		case "stdin":
			stdin = true
		case "stdout":
			stdout = true
		case "stderr":
			stderr = true
		default:
			return false, false, false, fmt.Errorf("invalid argument %q for \"-a, --attach\" flag: valid streams are STDIN, STDOUT and STDERR", v)
		}
	}
	return stdin, stdout, stderr, nil
}

// parseTmpfs turns --tmpfs path[:options] into the HostConfig map.
func parseTmpfs(vals []string) map[string]string {
	if len(vals) == 0 {
		return nil
	}
	m := map[string]string{}
	for _, v := range vals {
		path, o, _ := strings.Cut(v, ":")
		m[path] = o
	}
	return m
}

// splitVolumes separates -v values into bind/named mounts (HostConfig.Binds)
// and anonymous volumes (Config.Volumes), as docker does.
func splitVolumes(vals []string) (binds []string, volumes map[string]struct{}, err error) {
	volumes = map[string]struct{}{}
	for _, v := range vals {
		if v == "" {
			return nil, nil, errors.New("invalid empty volume spec")
		}
		if strings.Contains(v, ":") {
			binds = append(binds, v)
			continue
		}
		volumes[v] = struct{}{}
	}
	return binds, volumes, nil
}
