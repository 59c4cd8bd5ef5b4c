package build_test

import (
	"runtime"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"stockd/internal/build"
)

func TestReadPrefersTheLinkerVersion(t *testing.T) {
	t.Parallel()
	info := build.Read("v1.2.3-4-gabcdef-dirty")
	assert.Equal(t, "v1.2.3-4-gabcdef-dirty", info.Version)
	assert.Equal(t, runtime.Version(), info.GoVersion)
	assert.NotEmpty(t, info.Revision)
	assert.Equal(t, "stockd v1.2.3-4-gabcdef-dirty ("+runtime.Version()+", revision "+info.Revision+")", info.String())

	assert.NotEmpty(t, build.Read("").Version, "a build without -X still says something")
}

func TestCollectorIsTheBuildInfoGauge(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	reg.MustRegister(build.Info{Version: "v1", GoVersion: "go1.26.0", Revision: "abc"}.Collector())
	require.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader(`
# HELP stockd_build_info Always 1; its labels say which build is running.
# TYPE stockd_build_info gauge
stockd_build_info{goversion="go1.26.0",revision="abc",version="v1"} 1
`), "stockd_build_info"))
}
