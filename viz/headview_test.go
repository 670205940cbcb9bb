package viz_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/gptviz/gptviz/viz"
	"github.com/gptviz/gptviz/viz/viztest"
)

func TestHeadView(t *testing.T) {
	t.Parallel()
	tr := viztest.Trace(viztest.Options{NLayer: 2, NHead: 2, DHead: 4, NPositions: 64, Prompt: 6, Steps: 2, Seed: 1})
	c, err := viz.HeadView(tr, 1, 1, viz.Lang("zh"))
	if err != nil {
		t.Fatal(err)
	}
	if c.ID != "head-view-l1-h1" || !strings.Contains(string(c.Option), `"adjacency"`) || !strings.Contains(string(c.Option), `"graph"`) {
		t.Errorf("id %s, option %s", c.ID, c.Option)
	}
	var b bytes.Buffer
	if err := c.Static(&b, "svg"); err != nil {
		t.Error(err)
	}
	if _, err := viz.HeadView(tr, 2, 0); !errors.Is(err, viz.ErrRange) {
		t.Errorf("layer 2 of 2: %v, want ErrRange", err)
	}
	tr.Steps[0].Attention = nil
	if _, err := viz.HeadView(tr, 0, 0); !errors.Is(err, viz.ErrNoData) {
		t.Errorf("no attention: %v, want ErrNoData", err)
	}
}
