package main

import (
	"context"
	"errors"
	"io"
)

// runRender is a placeholder until the render command is written.
func runRender(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return errors.New("render: not implemented yet")
}
