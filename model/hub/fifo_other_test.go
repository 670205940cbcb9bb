//go:build !unix

package hub

import "testing"

// fifoCases is empty where there are no named pipes in the file system.
var fifoCases []struct {
	name  string
	setup func(t *testing.T, dir string)
	want  string
}
