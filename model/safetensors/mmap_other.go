//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package safetensors

import (
	"errors"
	"os"
)

// mapFile is not available here; Open falls back to reading the file.
func mapFile(f *os.File, size int) ([]byte, func() error, error) {
	return nil, nil, errors.New("memory mapping not supported")
}
