// Package build says which build of stockd runs: the version the linker
// was given (`make build` passes git describe), else the module's, the Go
// version and the VCS revision, for `stockd version` and the
// stockd_build_info gauge.
package build

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/prometheus/client_golang/prometheus"
)

// Info is one build.
type Info struct {
	Version   string // "devel" when neither the linker nor the module says
	GoVersion string
	Revision  string // "unknown" when the build recorded none
}

// Read returns the running build; linkerVersion is main.version, set with
// -ldflags "-X main.version=...", empty when it was not.
func Read(linkerVersion string) Info {
	info := Info{Version: linkerVersion, GoVersion: runtime.Version(), Revision: "unknown"}
	if bi, ok := debug.ReadBuildInfo(); ok {
		if info.Version == "" && bi.Main.Version != "(devel)" {
			info.Version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				info.Revision = s.Value
			}
		}
	}
	if info.Version == "" {
		info.Version = "devel"
	}
	return info
}

// String is what `stockd version` prints.
func (i Info) String() string {
	return fmt.Sprintf("stockd %s (%s, revision %s)", i.Version, i.GoVersion, i.Revision)
}

// Collector is the gauge stockd_build_info, always 1, whose labels say
// which build is running: a dashboard can show it, and a rollout can be
// followed by counting the processes of each version.
func (i Info) Collector() prometheus.Collector {
	g := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "stockd_build_info", Help: "Always 1; its labels say which build is running.",
		ConstLabels: prometheus.Labels{"version": i.Version, "goversion": i.GoVersion, "revision": i.Revision},
	})
	g.Set(1)
	return g
}
