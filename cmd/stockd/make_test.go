package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"stockd/internal/testenv"
)

// makeCmd is make with args at the root of the tree, PATH prefixed with
// dir when it is not "".
func makeCmd(t *testing.T, dir string, args ...string) *exec.Cmd {
	t.Helper()
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("no make here")
	}
	root, err := filepath.Abs("../..")
	require.NoError(t, err)
	cmd := exec.Command("make", append([]string{"--no-print-directory", "-C", root}, args...)...)
	cmd.Env = makeEnv()
	if dir != "" {
		cmd.Env = append(cmd.Env, "PATH="+dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	}
	return cmd
}

// makeEnv is the environment less what an outer make (make test runs go
// test) hands its children: a nested make would otherwise try the outer
// one's jobserver, which this process does not hold ("wait: No child
// processes").
func makeEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		switch name {
		case "MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES":
			continue
		}
		env = append(env, kv)
	}
	return append(env, extra...)
}

// TestMakeUpSaysComposeV2IsNeeded: with a docker that has no compose
// plugin (it answers `docker compose` as an unknown command, as Docker does),
// make up and make down say what is missing instead of running
// `docker compose up -d`, which fails with "unknown shorthand flag: 'd'".
func TestMakeUpSaysComposeV2IsNeeded(t *testing.T) {
	t.Parallel()
	bin := t.TempDir()
	calls := filepath.Join(bin, "calls")
	docker := "#!/bin/sh\necho \"$*\" >>" + calls + "\necho \"docker: unknown command: docker $1\" >&2\nexit 1\n"
	require.NoError(t, os.WriteFile(filepath.Join(bin, "docker"), []byte(docker), 0o755))
	for _, target := range []string{"up", "down"} {
		out, err := makeCmd(t, bin, target).CombinedOutput()
		require.Error(t, err, target)
		assert.Contains(t, string(out), "Docker Compose v2 is needed", target)
		assert.NotContains(t, string(out), "unknown shorthand flag", target)
	}
	seen, err := os.ReadFile(calls)
	require.NoError(t, err)
	assert.Equal(t, "compose version\ncompose version\n", string(seen), "nothing but the check ran")
}

// TestMakeRunEndsCleanlyOnCtrlC: make run runs the built binary, so that
// Ctrl-C (SIGINT to the terminal's process group: make and stockd) lets
// stockd drain and exit 0, and make exits 0 without "make: *** Error 1"
// (what `go run` gave).
func TestMakeRunEndsCleanlyOnCtrlC(t *testing.T) {
	if testing.Short() {
		t.Skip("builds stockd")
	}
	t.Parallel()
	addr := testenv.FreeAddr(t)
	cmd := makeCmd(t, "", "run", "BIN="+filepath.Join(t.TempDir(), "stockd"))
	cmd.Env = append(cmd.Env, "HTTP_ADDR="+addr, "SHUTDOWN_DELAY=0")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // a process group, as a terminal's job is
	require.NoError(t, cmd.Start())
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	})
	waitHealthy(t, "http://"+addr, 3*time.Minute) // the first build may compile everything
	require.NoError(t, syscall.Kill(-cmd.Process.Pid, syscall.SIGINT))
	select {
	case err := <-done:
		// make itself had the SIGINT too: it waits for stockd, then ends
		// by that signal, as a shell's commands do on Ctrl-C, silently.
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			ws, _ := exit.Sys().(syscall.WaitStatus)
			require.True(t, ws.Signaled() && ws.Signal() == syscall.SIGINT, "%v\n%s", err, out.String())
		} else {
			require.NoError(t, err, out.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("make run did not end after SIGINT:\n%s", out.String())
	}
	assert.NotContains(t, out.String(), "make: ***")
	assert.Contains(t, out.String(), "shutting down", "stockd had the signal")
}
