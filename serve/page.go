package serve

import (
	"embed"
	"html/template"
	"net/http"
	"strconv"
	"time"

	"github.com/gptviz/gptviz/output"
)

//go:embed page/index.html page/app.js page/app.css page/lesson.js
var pageFS embed.FS

var pageTmpl = template.Must(template.ParseFS(pageFS, "page/index.html"))

// pageCSP lets the page load only its own scripts, styles and data: images,
// and talk only to this server.
const pageCSP = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// page answers the playground: English, or Chinese with ?lang=zh.
func (s *Server) page(w http.ResponseWriter, r *http.Request) {
	lang := r.URL.Query().Get("lang")
	if lang != "zh" {
		lang = "en"
	}
	c := s.opt.Model.Config
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", pageCSP)
	pageTmpl.Execute(w, map[string]any{
		"Lang": lang, "Model": s.opt.Model.Name, "Layers": c.NLayer, "Heads": c.NHead, "Positions": c.NPositions,
		"MaxSteps": s.lim.Steps, "MaxTokens": s.lim.PromptTokens, "Sessions": s.lim.Sessions, "Idle": minutes(s.lim.Idle),
	})
}

// static answers the page's scripts and styles, all from the binary.
func (s *Server) static(w http.ResponseWriter, r *http.Request) {
	var body []byte
	var ctype string
	switch r.PathValue("name") {
	case "app.js":
		body, _ = pageFS.ReadFile("page/app.js")
		ctype = "text/javascript; charset=utf-8"
	case "lesson.js":
		body, _ = pageFS.ReadFile("page/lesson.js")
		ctype = "text/javascript; charset=utf-8"
	case "app.css":
		body, _ = pageFS.ReadFile("page/app.css")
		ctype = "text/css; charset=utf-8"
	case "page.css":
		body, ctype = []byte(output.PageCSS()), "text/css; charset=utf-8"
	case "echarts.js":
		body, ctype = []byte(output.EChartsJS()), "text/javascript; charset=utf-8"
	default:
		httpError(w, http.StatusNotFound, "no file %q", r.PathValue("name"))
		return
	}
	w.Header().Set("Content-Type", ctype)
	w.Write(body)
}

// minutes writes d in minutes for the page's texts ("{3} minutes"):
// "30", or "0.5" for 30 s.
func minutes(d time.Duration) string { return strconv.FormatFloat(d.Minutes(), 'f', -1, 64) }
