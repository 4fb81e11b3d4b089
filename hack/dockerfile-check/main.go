// Command dockerfile-check checks a Dockerfile with BuildKit's own parser and
// lint rules (the checks `docker build --check` runs), without a Docker engine.
//
//	dockerfile-check [-target NAME] PATH
//
// Layers, all from github.com/moby/buildkit/frontend/dockerfile:
//  1. parser.Parse: syntax, escape/syntax directives, empty continuation lines.
//  2. instructions.Parse with a linter.Linter: every instruction and flag
//     (e.g. RUN --mount options), stage names, FROM ... AS casing.
//  3. dockerfile2llb.DockerfileLint: the full `--check` rule set, run against
//     an offline image resolver (base images are never pulled).
//  4. Local rules: every COPY --from / RUN --mount from= names an earlier stage,
//     every variable used in FROM is a declared global ARG.
//
// Output: JSON on stdout. Exit status 1 if there is any error or warning,
// 2 on usage errors.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/client/llb/sourceresolver"
	"github.com/moby/buildkit/frontend/dockerfile/dockerfile2llb"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/linter"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/frontend/dockerfile/shell"
	"github.com/moby/buildkit/frontend/dockerui"
	digest "github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

type stageOut struct {
	Name     string   `json:"name"`
	Base     string   `json:"base"`
	Platform string   `json:"platform,omitempty"`
	Line     int      `json:"line"`
	Commands []string `json:"commands"`
}

type warningOut struct {
	Rule    string `json:"rule"`
	Message string `json:"message"`
	Line    int    `json:"line"`
	URL     string `json:"url,omitempty"`
	Source  string `json:"source"` // parser, instructions, dockerfile2llb
}

type errorOut struct {
	Message string `json:"message"`
	Line    int    `json:"line,omitempty"`
	Source  string `json:"source"` // parser, instructions, dockerfile2llb, check
}

type report struct {
	File     string       `json:"file"`
	Stages   []stageOut   `json:"stages"`
	Warnings []warningOut `json:"warnings"`
	Errors   []errorOut   `json:"errors"`
}

func (r *report) warn(source, rule, msg, url string, loc []parser.Range) {
	line := firstLine(loc)
	for _, w := range r.Warnings { // the same rule fires in instructions.Parse and in DockerfileLint
		if w.Rule == rule && w.Message == msg && w.Line == line {
			return
		}
	}
	r.Warnings = append(r.Warnings, warningOut{Rule: rule, Message: msg, Line: line, URL: url, Source: source})
}

func (r *report) fail(source string, err error) {
	line := 0
	var le *parser.LocationError
	if errors.As(err, &le) && len(le.Locations) > 0 && len(le.Locations[0]) > 0 {
		line = le.Locations[0][0].Start.Line
	}
	r.Errors = append(r.Errors, errorOut{Message: err.Error(), Line: line, Source: source})
}

func (r *report) failf(line int, format string, args ...any) {
	r.Errors = append(r.Errors, errorOut{Message: fmt.Sprintf(format, args...), Line: line, Source: "check"})
}

func firstLine(loc []parser.Range) int {
	if len(loc) == 0 {
		return 0
	}
	return loc[0].Start.Line
}

// ARGs BuildKit defines for FROM without a declaration.
var predefinedFromArgs = []string{
	"BUILDPLATFORM", "BUILDOS", "BUILDARCH", "BUILDVARIANT", "BUILDOSVERSION",
	"TARGETPLATFORM", "TARGETOS", "TARGETARCH", "TARGETVARIANT", "TARGETOSVERSION",
	"TARGETSTAGE",
}

// offlineResolver answers every image config lookup with an empty image of the
// requested platform, so the lint needs neither network nor a daemon.
type offlineResolver struct{}

func (offlineResolver) ResolveImageConfig(_ context.Context, ref string, opt sourceresolver.Opt) (string, digest.Digest, []byte, error) {
	img := ocispecs.Image{}
	if opt.ImageOpt != nil && opt.ImageOpt.Platform != nil {
		img.Platform = *opt.ImageOpt.Platform
	} else {
		img.OS, img.Architecture = "linux", "amd64"
	}
	img.RootFS = ocispecs.RootFS{Type: "layers", DiffIDs: []digest.Digest{digest.FromString(ref)}}
	dt, err := json.Marshal(img)
	return ref, "", dt, err
}

func main() {
	target := flag.String("target", "", "stage to lint (default: all stages, as `docker build --check`)")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: %s [-target NAME] DOCKERFILE\n", os.Args[0])
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 1 {
		flag.Usage()
		os.Exit(2)
	}
	path := flag.Arg(0)
	dt, err := os.ReadFile(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	rep := check(path, dt, *target)
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(rep); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	if len(rep.Errors) > 0 || len(rep.Warnings) > 0 {
		os.Exit(1)
	}
}

func check(path string, dt []byte, target string) *report {
	rep := &report{File: path, Stages: []stageOut{}, Warnings: []warningOut{}, Errors: []errorOut{}}

	// 1. parser
	ast, err := parser.Parse(bytes.NewReader(dt))
	if err != nil {
		rep.fail("parser", err)
		return rep
	}
	for _, w := range ast.Warnings {
		var loc []parser.Range
		if w.Location != nil {
			loc = []parser.Range{*w.Location}
		}
		rule := "parser"
		if w.URL == linter.RuleNoEmptyContinuation.URL {
			rule = linter.RuleNoEmptyContinuation.Name
		}
		msg := w.Short
		for _, d := range w.Detail {
			msg += " " + string(d)
		}
		rep.warn("parser", rule, msg, w.URL, loc)
	}

	// 2. instructions, with the linter configured by a `# check=` directive if any
	checkOpt, _, _, _ := parser.ParseDirective("check", dt)
	lcfg, err := linter.ParseLintOptions(checkOpt)
	if err != nil {
		rep.fail("instructions", err)
		return rep
	}
	lcfg.Warn = func(rule, _, url, msg string, loc []parser.Range) {
		rep.warn("instructions", rule, msg, url, loc)
	}
	stages, metaArgs, err := instructions.Parse(ast.AST, linter.New(lcfg))
	if err != nil {
		rep.fail("instructions", err)
		return rep
	}
	if len(stages) == 0 {
		rep.failf(0, "the Dockerfile has no FROM")
		return rep
	}
	for _, s := range stages {
		so := stageOut{Name: s.Name, Base: s.BaseName, Platform: s.Platform, Line: firstLine(s.Location), Commands: []string{}}
		for _, c := range s.Commands {
			so.Commands = append(so.Commands, strings.ToUpper(c.Name()))
		}
		rep.Stages = append(rep.Stages, so)
	}

	// 3. the `docker build --check` lint (dockerfile2llb)
	res, err := dockerfile2llb.DockerfileLint(context.Background(), dt, dockerfile2llb.ConvertOpt{
		Config:       dockerui.Config{Target: target},
		MetaResolver: offlineResolver{},
		SourceMap:    &llb.SourceMap{Definition: &llb.Definition{}, Filename: path, Language: "Dockerfile", Data: dt},
	})
	if err != nil {
		rep.fail("dockerfile2llb", err)
	} else {
		for _, w := range res.Warnings {
			var loc []parser.Range
			if w.Location != nil {
				for _, r := range w.Location.Ranges {
					loc = append(loc, parser.Range{
						Start: parser.Position{Line: int(r.GetStart().GetLine()), Character: int(r.GetStart().GetCharacter())},
						End:   parser.Position{Line: int(r.GetEnd().GetLine()), Character: int(r.GetEnd().GetCharacter())},
					})
				}
			}
			rep.warn("dockerfile2llb", w.RuleName, w.Detail, w.URL, loc)
		}
		if res.Error != nil {
			line := 0
			if rs := res.Error.Location.GetRanges(); len(rs) > 0 {
				line = int(rs[0].GetStart().GetLine())
			}
			rep.Errors = append(rep.Errors, errorOut{Message: res.Error.Message, Line: line, Source: "dockerfile2llb"})
		}
	}

	// 4. local rules
	checkFromArgs(rep, stages, metaArgs, ast.EscapeToken)
	checkStageRefs(rep, stages, metaArgs, ast.EscapeToken)
	return rep
}

type envMap map[string]string

func (e envMap) Get(k string) (string, bool) { v, ok := e[k]; return v, ok }
func (e envMap) Keys() []string {
	ks := make([]string, 0, len(e))
	for k := range e {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

func globalArgs(metaArgs []instructions.ArgCommand) envMap {
	env := envMap{}
	for _, n := range predefinedFromArgs {
		env[n] = ""
	}
	for _, a := range metaArgs {
		for _, kv := range a.Args {
			v := ""
			if kv.Value != nil {
				v = *kv.Value
			}
			env[kv.Key] = v
		}
	}
	return env
}

// checkFromArgs: each variable in FROM (image and --platform) must be a global
// ARG declared before the first FROM (or a BuildKit predefined one).
func checkFromArgs(rep *report, stages []instructions.Stage, metaArgs []instructions.ArgCommand, escape rune) {
	env := globalArgs(metaArgs)
	lex := shell.NewLex(escape)
	for _, s := range stages {
		for _, word := range []string{s.BaseName, s.Platform} {
			if word == "" {
				continue
			}
			res, err := lex.ProcessWordWithMatches(word, env)
			if err != nil {
				rep.failf(firstLine(s.Location), "FROM %s: %v", s.BaseName, err)
				continue
			}
			for _, name := range envMap(toMap(res.Unmatched)).Keys() {
				rep.failf(firstLine(s.Location), "FROM %s: ARG %s is not declared before the first FROM", word, name)
			}
		}
	}
}

func toMap(s map[string]struct{}) map[string]string {
	m := make(map[string]string, len(s))
	for k := range s {
		m[k] = ""
	}
	return m
}

// checkStageRefs: COPY --from=X and RUN --mount=...,from=X must name a stage
// defined earlier in the file (by name or index). BuildKit itself would read an
// unknown X as an image to pull from a registry.
func checkStageRefs(rep *report, stages []instructions.Stage, metaArgs []instructions.ArgCommand, escape rune) {
	lex := shell.NewLex(escape)
	for i, s := range stages {
		env := globalArgs(metaArgs)
		for _, c := range s.Commands {
			var refs []string
			var what string
			switch c := c.(type) {
			case *instructions.ArgCommand:
				for _, kv := range c.Args {
					v := ""
					if kv.Value != nil {
						v = *kv.Value
					}
					env[kv.Key] = v
				}
			case *instructions.CopyCommand:
				if c.From != "" {
					refs, what = []string{c.From}, "COPY --from"
				}
			case *instructions.RunCommand:
				for _, m := range instructions.GetMounts(c) {
					if m.From != "" {
						refs = append(refs, m.From)
					}
				}
				what = "RUN --mount from"
			}
			line := firstLine(c.Location())
			for _, ref := range refs {
				res, err := lex.ProcessWordWithMatches(ref, env)
				if err != nil {
					rep.failf(line, "%s=%s: %v", what, ref, err)
					continue
				}
				if len(res.Unmatched) > 0 {
					rep.failf(line, "%s=%s: undefined variable(s) %s", what, ref, strings.Join(envMap(toMap(res.Unmatched)).Keys(), ", "))
					continue
				}
				if j := stageIndex(stages, res.Result); j < 0 || j >= i {
					earlier := []string{}
					for k := range i {
						earlier = append(earlier, stageLabel(stages, k))
					}
					if len(earlier) == 0 {
						earlier = append(earlier, "none")
					}
					reason := "is not a stage of this Dockerfile"
					if j == i {
						reason = "is the current stage"
					} else if j > i {
						reason = "is a later stage"
					}
					rep.failf(line, "%s=%s: %q %s (earlier stages: %s)", what, ref, res.Result, reason, strings.Join(earlier, ", "))
				}
			}
		}
	}
}

func stageIndex(stages []instructions.Stage, ref string) int {
	if n, err := strconv.Atoi(ref); err == nil {
		if n >= 0 && n < len(stages) {
			return n
		}
		return -1
	}
	for i, s := range stages {
		if s.Name != "" && strings.EqualFold(s.Name, ref) {
			return i
		}
	}
	return -1
}

func stageLabel(stages []instructions.Stage, i int) string {
	if stages[i].Name != "" {
		return stages[i].Name
	}
	return strconv.Itoa(i)
}
