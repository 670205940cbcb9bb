package main

import (
	"context"
	"errors"
	"io"
)

// runPull is a placeholder until the pull command is written.
func runPull(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return errors.New("pull: not implemented yet")
}
