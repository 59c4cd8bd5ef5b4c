package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"

	"stockd/app"
	"stockd/domain"
	"stockd/internal/config"
)

// errBooksDiffer is the failure of a reconcile that found differences (or
// a repair that could not set them all): exit 1, the lines on stdout.
var errBooksDiffer = errors.New("reconcile: positions differ from the ledger")

// runReconcile is `stockd reconcile [--repair]`: it compares the positions
// of the price store with the order store's ledger (app.Reconcile), prints
// one line per position that differs and a summary, and fails when any
// differs. With --repair it sets them to the ledger and says what it set.
func runReconcile(ctx context.Context, cfg config.Config, log *slog.Logger, args []string, stdout io.Writer) error {
	flags := flag.NewFlagSet("reconcile", flag.ContinueOnError)
	flags.SetOutput(io.Discard)
	repair := flags.Bool("repair", false, "set the positions that differ to the ledger's")
	if err := flags.Parse(args); err != nil || flags.NArg() > 0 {
		return fmt.Errorf("%w: stockd reconcile [--repair]", errUsage)
	}
	// A memory store would be this process's own, and empty.
	if cfg.PriceStore == config.PriceStoreMemory {
		return errors.New("reconcile: PRICE_STORE=memory holds no positions outside one process; set PRICE_STORE=redis")
	}
	if cfg.OrderStore == config.OrderStoreMemory {
		return errors.New("reconcile: ORDER_STORE=memory holds no orders outside one process; set ORDER_STORE=postgres")
	}
	st, err := openStores(ctx, cfg, log, uses{orders: true}, nil)
	if err != nil {
		return err
	}
	defer st.close()
	books, err := app.NewReconcile(st.credits, st.credits, st.credits, st.orders)
	if err != nil {
		return err
	}
	var rec app.Reconciliation
	if *repair {
		rec, err = books.Repair(ctx)
	} else {
		rec, err = books.Check(ctx)
	}
	if err != nil {
		return fmt.Errorf("reconcile: %w", err)
	}
	out := bufio.NewWriter(stdout)
	failed := report(out, rec, *repair)
	if err := out.Flush(); err != nil {
		return err
	}
	return failed
}

// report writes a line per difference and the summary, and returns
// errBooksDiffer when the books still differ: a check found differences,
// or a repair left some unset.
func report(w io.Writer, rec app.Reconciliation, repaired bool) error {
	compared := fmt.Sprintf("%s of %s", count(rec.Positions, "position"), count(rec.Users, "user"))
	transient := ""
	if rec.Transient > 0 {
		transient = fmt.Sprintf("; %s gone when read again (trades in flight)", count(rec.Transient, "difference"))
	}
	users := map[string]bool{}
	set, setUsers := 0, map[string]bool{}
	for _, d := range rec.Differences {
		users[d.User] = true
		line := fmt.Sprintf("%s %s held %s ledger %s", d.User, d.Stock, positionText(d.Held), ledgerText(d))
		switch {
		case !repaired:
		case d.Repaired:
			line += ": set"
			set++
			setUsers[d.User] = true
		default:
			line += fmt.Sprintf(": not set (%v)", d.NotRepaired)
		}
		fmt.Fprintln(w, line)
	}
	switch {
	case len(rec.Differences) == 0:
		fmt.Fprintf(w, "positions agree with the ledger: %s compared%s\n", compared, transient)
		return nil
	case !repaired:
		fmt.Fprintf(w, "%s of %s differ from the ledger%s; stockd reconcile --repair sets them\n",
			count(len(rec.Differences), "position"), count(len(users), "user"), transient)
		return errBooksDiffer
	}
	fmt.Fprintf(w, "set %s of %s to the ledger (%s compared)%s\n", count(set, "position"), count(len(setUsers), "user"), compared, transient)
	if left := len(rec.Differences) - set; left > 0 {
		fmt.Fprintf(w, "%s not set; see above\n", count(left, "position"))
		return fmt.Errorf("%w: %s not set", errBooksDiffer, count(left, "position"))
	}
	return nil
}

// positionText is how a line shows a position: "100 (cost 105400)".
func positionText(p domain.Position) string {
	return fmt.Sprintf("%d (cost %d)", p.Quantity(), p.CostBasis())
}

// ledgerText is the ledger's side of a line, with what is wrong with the
// orders themselves.
func ledgerText(d app.PositionDifference) string {
	switch {
	case d.LedgerErr != nil:
		return fmt.Sprintf("%s, then broken: %v", positionText(d.Ledger), d.LedgerErr)
	case d.Oversold > 0:
		return fmt.Sprintf("%s and %d more sold than bought", positionText(d.Ledger), d.Oversold)
	}
	return positionText(d.Ledger)
}

// count is "1 user", "2 users".
func count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
