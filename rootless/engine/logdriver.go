package engine

import (
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strconv"

	"github.com/containerd/errdefs"
	"github.com/docker/go-units"
	"github.com/moby/moby/api/types/container"
)

// The log drivers warren has. local shares json-file's writer and reader
// with Docker's local defaults; its files are JSON lines, not Docker's
// protobuf frames (README, "Logging").
const (
	driverJSONFile = "json-file"
	driverLocal    = "local"
	driverNone     = "none"
)

// Docker's local driver defaults (daemon/logger/local/local.go).
const (
	localMaxSize  = 20 * 1000 * 1000
	localMaxFiles = 5
)

// logConfig is a container's parsed --log-driver and --log-opt.
type logConfig struct {
	driver   string
	maxSize  int64 // bytes per file before rotation; -1 = unbounded
	maxFiles int   // files kept, the current one included
}

// errReadLogsNotSupported is Docker's answer to logs on a container whose
// driver keeps nothing (logger.ErrReadLogsNotSupported, a 501).
var errReadLogsNotSupported = errdefs.ErrNotImplemented.WithMessage("configured logging driver does not support reading")

// parseLogConfig is Docker's create-time ValidateLogOpts plus the option
// parsing its drivers do at start, so a bad option is refused before the
// container exists. Texts are Docker's; what warren lacks is refused in
// one line instead of being ignored.
func parseLogConfig(lc container.LogConfig) (logConfig, error) {
	driver := lc.Type
	if driver == "" {
		driver = driverJSONFile
	}
	if driver == driverNone {
		return logConfig{driver: driverNone}, nil // Docker checks no options for none
	}
	opts := lc.Config
	mode := container.LogMode(opts["mode"])
	switch mode {
	case container.LogModeBlocking, container.LogModeNonBlock, container.LogModeUnset:
	default:
		return logConfig{}, fmt.Errorf("logger: logging mode not supported: %s", opts["mode"])
	}
	if s, ok := opts["max-buffer-size"]; ok {
		if mode != container.LogModeNonBlock {
			return logConfig{}, fmt.Errorf("logger: max-buffer-size option is only supported with 'mode=%s'", container.LogModeNonBlock)
		}
		if _, err := units.RAMInBytes(s); err != nil {
			return logConfig{}, fmt.Errorf("error parsing option max-buffer-size: %w", err)
		}
	}
	if driver != driverJSONFile && driver != driverLocal {
		return logConfig{}, fmt.Errorf("logger: no log driver named '%s' is registered", driver)
	}
	if mode == container.LogModeNonBlock {
		return logConfig{}, errors.New("log opt mode=non-blocking is not supported by warren: the log is written as the output comes (mode=blocking)")
	}
	if driver == driverLocal {
		return parseLocalOpts(opts)
	}
	return parseJSONFileOpts(opts)
}

// commonLogOpts are the attribute options every Docker file driver takes;
// warren writes no attributes, so it refuses them rather than drop them.
var commonLogOpts = map[string]bool{"labels": true, "labels-regex": true, "env": true, "env-regex": true, "tag": true}

// optionKeys lists the options but mode and max-buffer-size (checked for
// all drivers), sorted
// so the first bad one reported is the same every time.
func optionKeys(opts map[string]string) []string {
	keys := make([]string, 0, len(opts))
	for k := range opts {
		if k != "mode" && k != "max-buffer-size" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	return keys
}

// parseJSONFileOpts is jsonfilelog.ValidateLogOpt and jsonfilelog.New.
func parseJSONFileOpts(opts map[string]string) (logConfig, error) {
	cfg := logConfig{driver: driverJSONFile, maxSize: -1, maxFiles: 1}
	for _, k := range optionKeys(opts) {
		switch {
		case k == "max-size" || k == "max-file" || k == "compress":
		case commonLogOpts[k]:
			return cfg, fmt.Errorf("log opt '%s' is not supported by warren's json-file log driver", k)
		default:
			return cfg, fmt.Errorf("unknown log opt '%s' for json-file log driver", k)
		}
	}
	if s, ok := opts["max-size"]; ok {
		n, err := units.FromHumanSize(s)
		if err != nil {
			return cfg, initError(err)
		}
		if n <= 0 {
			return cfg, initError(errors.New("max-size must be a positive number"))
		}
		cfg.maxSize = n
	}
	if s, ok := opts["max-file"]; ok {
		n, err := strconv.Atoi(s)
		if err != nil {
			return cfg, initError(err)
		}
		if n < 1 {
			return cfg, initError(errors.New("max-file cannot be less than 1"))
		}
		cfg.maxFiles = n
	}
	if s, ok := opts["compress"]; ok {
		compress, err := strconv.ParseBool(s)
		if err != nil {
			return cfg, initError(err)
		}
		if compress && (cfg.maxFiles == 1 || cfg.maxSize == -1) {
			return cfg, initError(errors.New("compress cannot be true when max-file is less than 2 or max-size is not set"))
		}
		if compress {
			return cfg, errCompress
		}
	}
	return cfg, nil
}

var errCompress = errors.New("log opt compress=true is not supported by warren: rotated log files are kept uncompressed; leave compress out or set it to false")

// parseLocalOpts is local.ValidateLogOpt and local.newConfig, without
// compression (see errCompress).
func parseLocalOpts(opts map[string]string) (logConfig, error) {
	cfg := logConfig{driver: driverLocal, maxSize: localMaxSize, maxFiles: localMaxFiles}
	for _, k := range optionKeys(opts) {
		switch {
		case k == "max-size" || k == "max-file" || k == "compress":
		case commonLogOpts[k]:
			return cfg, fmt.Errorf("log opt '%s' is not supported by warren's local log driver", k)
		default:
			return cfg, fmt.Errorf("unknown log opt '%s' for log driver local", k)
		}
	}
	if s, ok := opts["max-size"]; ok {
		n, err := units.FromHumanSize(s)
		if err != nil {
			return cfg, initError(fmt.Errorf("invalid value for max-size: %s: %w", s, err))
		}
		if n < 0 {
			return cfg, initError(errors.New("max-size must not be negative"))
		}
		cfg.maxSize = n
	}
	if s, ok := opts["max-file"]; ok {
		n, err := strconv.Atoi(s)
		if err != nil {
			return cfg, initError(fmt.Errorf("invalid value for max-file: %s: %w", s, err))
		}
		if n < 0 {
			return cfg, initError(errors.New("max-file must not be negative"))
		}
		cfg.maxFiles = max(n, 1)
	}
	if s, ok := opts["compress"]; ok {
		compress, err := strconv.ParseBool(s)
		if err != nil {
			return cfg, initError(fmt.Errorf("invalid boolean value for compress: %w", err))
		}
		if compress && cfg.maxFiles <= 1 {
			return cfg, initError(errors.New("compression cannot be enabled when max file count is 1"))
		}
		if compress {
			return cfg, errCompress
		}
	}
	return cfg, nil
}

// initError words a bad option value as Docker does when the driver
// starts (container.startLogging); warren finds it at create already.
func initError(err error) error {
	return fmt.Errorf("failed to initialize logging driver: %w", err)
}

// logFilePath is where a driver keeps the current file in the container's
// folder: Docker's names. "" for none.
func logFilePath(dir, id, driver string) string {
	switch driver {
	case driverJSONFile:
		return filepath.Join(dir, id+"-json.log")
	case driverLocal:
		return filepath.Join(dir, "local-logs", "container.log")
	}
	return ""
}
