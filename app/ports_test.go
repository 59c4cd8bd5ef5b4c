package app_test

import (
	"fmt"
	"go/ast"
	"go/types"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/tools/go/packages"
)

// TestUseCasesTakeOnlyWhatTheyCall holds the rule that a port belongs to
// its caller: every interface-typed parameter of an exported NewX
// constructor in app has only methods that the constructor's file (the use
// case) calls. A parameter with a method it never calls is listed, so that
// a use case cannot quietly depend on a whole store.
func TestUseCasesTakeOnlyWhatTheyCall(t *testing.T) {
	if unused := portMethodsNotCalled(loadPackage(t, ".")); len(unused) > 0 {
		t.Errorf("use cases take interfaces with methods they never call:\n%s", strings.Join(unused, "\n"))
	}
}

// TestPortCheckFindsAWidePort runs the check on a use case given a method
// it never calls, so that the check above cannot pass by seeing nothing.
func TestPortCheckFindsAWidePort(t *testing.T) {
	got := portMethodsNotCalled(loadPackage(t, "./testdata/wideport"))
	want := []string{"  wideport.go: NewUseCase(store wideport.Store) never calls Put"}
	if !slices.Equal(got, want) {
		t.Errorf("check on testdata/wideport = %q, want %q", got, want)
	}
}

// loadPackage type-checks the package in dir from source.
func loadPackage(t *testing.T, dir string) *packages.Package {
	t.Helper()
	pkgs, err := packages.Load(&packages.Config{
		Mode: packages.NeedName | packages.NeedFiles | packages.NeedSyntax | packages.NeedTypes | packages.NeedTypesInfo,
		Dir:  dir,
	}, ".")
	if err != nil {
		t.Fatal(err)
	}
	if len(pkgs) != 1 || len(pkgs[0].Errors) > 0 {
		t.Fatalf("loading %s: %v", dir, pkgs)
	}
	return pkgs[0]
}

// portMethodsNotCalled lists, one line per constructor parameter, the
// methods of the parameter's interface that its file never selects (a
// call or a method value).
func portMethodsNotCalled(pkg *packages.Package) []string {
	var out []string
	constructors := 0
	for _, file := range pkg.Syntax {
		name := filepath.Base(pkg.Fset.File(file.Pos()).Name())
		used := map[*types.Func]bool{}
		ast.Inspect(file, func(n ast.Node) bool {
			if sel, ok := n.(*ast.SelectorExpr); ok {
				if f, ok := pkg.TypesInfo.Uses[sel.Sel].(*types.Func); ok {
					used[f.Origin()] = true
				}
			}
			return true
		})
		for _, decl := range file.Decls {
			fn, ok := decl.(*ast.FuncDecl)
			if !ok || fn.Recv != nil || !fn.Name.IsExported() || !strings.HasPrefix(fn.Name.Name, "New") {
				continue
			}
			constructors++
			sig := pkg.TypesInfo.Defs[fn.Name].Type().(*types.Signature)
			for p := range sig.Params().Variables() {
				iface, ok := p.Type().Underlying().(*types.Interface)
				if !ok {
					continue
				}
				var missing []string
				for m := range iface.Methods() {
					if !used[m.Origin()] {
						missing = append(missing, m.Name())
					}
				}
				if len(missing) > 0 {
					out = append(out, fmt.Sprintf("  %s: %s(%s %s) never calls %s", name, fn.Name.Name, p.Name(), types.TypeString(p.Type(), byName), strings.Join(missing, ", ")))
				}
			}
		}
	}
	if constructors == 0 {
		out = append(out, "  no NewX constructor found: the check looks at nothing")
	}
	return out
}

// byName writes ports.PriceStore, not stockd/ports.PriceStore.
func byName(p *types.Package) string { return p.Name() }
