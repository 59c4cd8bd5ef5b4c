package main

import (
	"bytes"
	"io"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"stockd/app"
	"stockd/domain"
	"stockd/ports"
)

// TestReconcileRefusesWhatItCannotCompare: a flag it does not know or an
// argument is a usage error, and a memory store, which holds nothing
// outside its process, is refused naming its variable, before anything
// is opened.
func TestReconcileRefusesWhatItCannotCompare(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"reconcile", "--fix"}, {"reconcile", "user1"}, {"reconcile", "--repair", "now"}} {
		err := run(t.Context(), args, envOf(nil), io.Discard, io.Discard)
		require.ErrorIs(t, err, errUsage, args)
		assert.Contains(t, err.Error(), "stockd reconcile [--repair]")
	}
	for env, want := range map[string]map[string]string{
		"PRICE_STORE": {},
		"ORDER_STORE": {"PRICE_STORE": "redis", "REDIS_ADDR": "127.0.0.1:1"},
	} {
		var out bytes.Buffer
		err := run(t.Context(), []string{"reconcile"}, envOf(want), &out, io.Discard)
		require.Error(t, err)
		assert.Contains(t, err.Error(), env+"=memory")
		assert.Empty(t, out.String())
	}
}

// TestReconcileReport pins the lines: one per difference (user, stock,
// held, ledger, and after a repair whether it was set) and a summary;
// the error that makes exit 1 when the books still differ.
func TestReconcileReport(t *testing.T) {
	t.Parallel()
	pos := func(q, c int64) domain.Position {
		p, err := domain.NewPosition(q, c)
		require.NoError(t, err)
		return p
	}
	diffs := func() []app.PositionDifference {
		return []app.PositionDifference{
			{User: "user2", Stock: "stock1", Held: pos(100, 105400), Ledger: pos(0, 0)},
			{User: "user2", Stock: "stock2", Held: pos(0, 0), Ledger: pos(3, 30), Oversold: 4},
			{User: "user3", Stock: "stock1", Held: pos(0, 0), Ledger: pos(150, 161600)},
		}
	}
	for _, tc := range []struct {
		name     string
		rec      app.Reconciliation
		repaired bool
		want     string
		fails    bool
	}{
		{name: "agree", rec: app.Reconciliation{Users: 1, Positions: 2},
			want: "positions agree with the ledger: 2 positions of 1 user compared\n"},
		{name: "agree after a trade in flight", rec: app.Reconciliation{Users: 2, Positions: 1, Transient: 1},
			want: "positions agree with the ledger: 1 position of 2 users compared; 1 difference gone when read again (trades in flight)\n"},
		{name: "differ", rec: app.Reconciliation{Users: 3, Positions: 5, Differences: diffs()}, fails: true,
			want: "user2 stock1 held 100 (cost 105400) ledger 0 (cost 0)\n" +
				"user2 stock2 held 0 (cost 0) ledger 3 (cost 30) and 4 more sold than bought\n" +
				"user3 stock1 held 0 (cost 0) ledger 150 (cost 161600)\n" +
				"3 positions of 2 users differ from the ledger; stockd reconcile --repair sets them\n"},
		{name: "repaired but one", repaired: true, fails: true, rec: func() app.Reconciliation {
			d := diffs()
			d[0].Repaired, d[2].Repaired = true, true
			d[1].NotRepaired = app.ErrLedgerOversold
			return app.Reconciliation{Users: 3, Positions: 5, Differences: d}
		}(),
			want: "user2 stock1 held 100 (cost 105400) ledger 0 (cost 0): set\n" +
				"user2 stock2 held 0 (cost 0) ledger 3 (cost 30) and 4 more sold than bought: not set (the accepted orders sell more shares than they buy)\n" +
				"user3 stock1 held 0 (cost 0) ledger 150 (cost 161600): set\n" +
				"set 2 positions of 2 users to the ledger (5 positions of 3 users compared)\n" +
				"1 position not set; see above\n"},
		{name: "repaired", repaired: true, rec: app.Reconciliation{Users: 1, Positions: 1, Differences: []app.PositionDifference{
			{User: "user2", Stock: "stock1", Held: pos(100, 105400), Ledger: pos(0, 0), Repaired: true},
		}},
			want: "user2 stock1 held 100 (cost 105400) ledger 0 (cost 0): set\n" +
				"set 1 position of 1 user to the ledger (1 position of 1 user compared)\n"},
		{name: "changed meanwhile", repaired: true, fails: true, rec: app.Reconciliation{Users: 1, Positions: 1, Differences: []app.PositionDifference{
			{User: "user2", Stock: "stock1", Held: pos(1, 1), Ledger: pos(0, 0), NotRepaired: ports.ErrPositionsChanged},
		}},
			want: "user2 stock1 held 1 (cost 1) ledger 0 (cost 0): not set (positions changed since they were read)\n" +
				"set 0 positions of 0 users to the ledger (1 position of 1 user compared)\n" +
				"1 position not set; see above\n"},
	} {
		var out bytes.Buffer
		err := report(&out, tc.rec, tc.repaired)
		assert.Equal(t, tc.want, out.String(), tc.name)
		if tc.fails {
			require.ErrorIs(t, err, errBooksDiffer, tc.name)
		} else {
			require.NoError(t, err, tc.name)
		}
	}
}
