package main

import (
	"context"
	"errors"
	"io"
)

// runTokens is a placeholder until the tokens command is written.
func runTokens(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return errors.New("tokens: not implemented yet")
}
