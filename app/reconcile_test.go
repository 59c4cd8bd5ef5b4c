package app_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"stockd/adapters/memory"
	"stockd/app"
	"stockd/domain"
	"stockd/ports"
)

// books are the two stores a reconciliation reads, in memory.
type books struct {
	credits *memory.CreditStore
	orders  *memory.OrderRepository
	at      time.Time
	n       int
}

func newBooks() *books {
	return &books{credits: memory.NewCreditStore(), orders: memory.NewOrderRepository(),
		at: time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)}
}

// reconcile is the use case on b's stores, or on the stores given.
func (b *books) reconcile(t *testing.T, stores ...any) *app.Reconcile {
	t.Helper()
	var (
		lister  ports.PositionLister = b.credits
		setter  ports.PositionSetter = b.credits
		pending ports.PendingLister  = b.credits
		ledger  ports.LedgerReader   = b.orders
	)
	for _, s := range stores {
		switch s := s.(type) {
		case ports.LedgerReader:
			ledger = s
		case ports.PositionSetter:
			setter = s
		case ports.PositionLister:
			lister = s
		}
	}
	r, err := app.NewReconcile(lister, setter, pending, ledger)
	require.NoError(t, err)
	return r
}

// recorded saves an accepted order, a second after the one before, as a
// version without positions did: the order is in the order store, and
// nothing in the positions.
func (b *books) recorded(t *testing.T, user, stock string, side domain.Side, price, qty int64) domain.Order {
	t.Helper()
	b.n++
	o, err := domain.NewOrder(fmt.Sprintf("order-%d", b.n), user, stock, domain.Accepted, price, qty, b.at.Add(time.Duration(b.n)*time.Second))
	require.NoError(t, err)
	o, err = o.WithSide(side)
	require.NoError(t, err)
	saved, err := b.orders.Save(t.Context(), o)
	require.NoError(t, err)
	return saved
}

// traded judges a trade in the credit store as the service does (position
// and pending order), and records it unless pendingOnly.
func (b *books) traded(t *testing.T, user, stock string, side domain.Side, price, qty int64, pendingOnly bool) domain.Order {
	t.Helper()
	b.n++
	key, at := fmt.Sprintf("order-%d", b.n), b.at.Add(time.Duration(b.n)*time.Second)
	var res ports.Outcome
	if side == domain.SideSell {
		s, err := domain.NewSell(user, stock, qty)
		require.NoError(t, err)
		o, err := s.AtPrice(key, price, at)
		require.NoError(t, err)
		res, err = b.credits.CreditSale(t.Context(), ports.SaleRequest{Order: o})
		require.NoError(t, err)
	} else {
		bu, err := domain.NewBuy(user, stock, qty)
		require.NoError(t, err)
		o, err := bu.AtPrice(key, price, at)
		require.NoError(t, err)
		res, err = b.credits.Debit(t.Context(), ports.DebitRequest{Order: o})
		require.NoError(t, err)
	}
	require.Equal(t, domain.Accepted, res.Order.Status())
	if pendingOnly {
		return res.Order
	}
	saved, err := b.orders.Save(t.Context(), res.Order)
	require.NoError(t, err)
	require.NoError(t, b.credits.SettlePending(t.Context(), user, saved.Key()))
	return saved
}

func (b *books) held(t *testing.T, user string) []domain.Holding {
	t.Helper()
	hs, err := b.credits.PositionsOf(t.Context(), user)
	require.NoError(t, err)
	return hs
}

func position(t *testing.T, quantity, cost int64) domain.Position {
	t.Helper()
	p, err := domain.NewPosition(quantity, cost)
	require.NoError(t, err)
	return p
}

func check(t *testing.T, r *app.Reconcile) app.Reconciliation {
	t.Helper()
	rec, err := r.Check(t.Context())
	require.NoError(t, err)
	return rec
}

func TestReconcileBooksThatAgree(t *testing.T) {
	b := newBooks()
	require.NoError(t, b.credits.SetCredit(t.Context(), "user1", 1_000_000))
	b.traded(t, "user1", "stock1", domain.SideBuy, 100, 10, false)
	b.traded(t, "user1", "stock1", domain.SideBuy, 130, 5, false)
	b.traded(t, "user1", "stock1", domain.SideSell, 120, 6, false)
	b.traded(t, "user1", "stock2", domain.SideBuy, 7, 3, false)
	b.traded(t, "user1", "stock2", domain.SideSell, 7, 3, false) // sold out: nothing held, nothing owed
	pending := b.traded(t, "user1", "stock3", domain.SideBuy, 50, 2, true)
	b.traded(t, "user1", "stock3", domain.SideBuy, 60, 1, false)
	// A pending order older than recorded ones (a crash before its
	// recording) is replayed in its place: after it, the sale takes
	// floor(120 × 2 / 8) = 30; before it, it would take 20.
	b.traded(t, "user1", "stock4", domain.SideBuy, 10, 4, false)
	b.traded(t, "user1", "stock4", domain.SideBuy, 20, 4, true)
	b.traded(t, "user1", "stock4", domain.SideSell, 15, 2, false)

	rec := check(t, b.reconcile(t))
	assert.Empty(t, rec.Differences, "a trade not recorded yet is in the ledger by its pending order")
	assert.Equal(t, 1, rec.Users)
	assert.Equal(t, 4, rec.Positions)
	assert.Zero(t, rec.Transient)

	// Once recorded, the pending order counts once.
	_, err := b.orders.Save(t.Context(), pending)
	require.NoError(t, err)
	assert.Empty(t, check(t, b.reconcile(t)).Differences)

	assert.Empty(t, check(t, newBooks().reconcile(t)).Differences, "no books, nothing to differ")
}

func TestReconcileRepairsOrdersRecordedBeforePositions(t *testing.T) {
	b := newBooks()
	b.recorded(t, "user2", "stock1", domain.SideBuy, 1054, 100)
	b.recorded(t, "user2", "stock1", domain.SideBuy, 1124, 50)
	require.NoError(t, b.credits.SetCredit(t.Context(), "user2", 1_000_000))
	b.traded(t, "user2", "stock2", domain.SideBuy, 10, 4, false) // bought since: in both books

	r := b.reconcile(t)
	rec := check(t, r)
	require.Equal(t, []app.PositionDifference{
		{User: "user2", Stock: "stock1", Held: domain.Position{}, Ledger: position(t, 150, 105400+56200)},
	}, rec.Differences)
	assert.Equal(t, 2, rec.Positions)
	assert.Equal(t, []domain.Holding{{Stock: "stock2", Position: position(t, 4, 40)}}, b.held(t, "user2"), "a check writes nothing")

	rec, err := r.Repair(t.Context())
	require.NoError(t, err)
	require.Len(t, rec.Differences, 1)
	assert.True(t, rec.Differences[0].Repaired)
	require.NoError(t, rec.Differences[0].NotRepaired)
	assert.Equal(t, []domain.Holding{
		{Stock: "stock1", Position: position(t, 150, 161600)},
		{Stock: "stock2", Position: position(t, 4, 40)},
	}, b.held(t, "user2"), "the position that agreed is kept")
	assert.Empty(t, check(t, r).Differences)
}

func TestReconcileRepairsAPositionWithNoOrders(t *testing.T) {
	b := newBooks()
	require.NoError(t, b.credits.SetPositions(t.Context(), "user2", nil, []domain.Holding{{Stock: "stock1", Position: position(t, 100, 105400)}}))
	r := b.reconcile(t)
	rec := check(t, r)
	assert.Equal(t, []app.PositionDifference{
		{User: "user2", Stock: "stock1", Held: position(t, 100, 105400), Ledger: domain.Position{}},
	}, rec.Differences)

	rec, err := r.Repair(t.Context())
	require.NoError(t, err)
	assert.True(t, rec.Differences[0].Repaired)
	assert.Empty(t, b.held(t, "user2"))
	rec = check(t, r)
	assert.Empty(t, rec.Differences)
	assert.Zero(t, rec.Users, "nothing held and no order: nobody to compare")
}

func TestReconcileReplaysSalesByTheAverageCostRule(t *testing.T) {
	b := newBooks()
	b.recorded(t, "user1", "stock1", domain.SideBuy, 100, 10)
	b.recorded(t, "user1", "stock1", domain.SideBuy, 130, 5)
	b.recorded(t, "user1", "stock1", domain.SideSell, 999, 6)
	// A cost basis off by one is a difference too: the quantity agrees.
	require.NoError(t, b.credits.SetPositions(t.Context(), "user1", nil, []domain.Holding{{Stock: "stock1", Position: position(t, 9, 991)}}))

	r := b.reconcile(t)
	// 10 at 100 and 5 at 130 cost 1650; a sale of 6 of the 15 takes
	// floor(1650 × 6 / 15) = 660.
	want := position(t, 9, 990)
	assert.Equal(t, []app.PositionDifference{{User: "user1", Stock: "stock1", Held: position(t, 9, 991), Ledger: want}}, check(t, r).Differences)
	_, err := r.Repair(t.Context())
	require.NoError(t, err)
	assert.Equal(t, []domain.Holding{{Stock: "stock1", Position: want}}, b.held(t, "user1"))
	assert.Empty(t, check(t, r).Differences)
}

func TestReconcileLeavesAnOversoldLedgerAlone(t *testing.T) {
	b := newBooks()
	b.recorded(t, "user1", "stock1", domain.SideBuy, 10, 2)
	b.recorded(t, "user1", "stock1", domain.SideSell, 10, 5)
	b.recorded(t, "user1", "stock2", domain.SideBuy, 10, 1)
	held := []domain.Holding{{Stock: "stock1", Position: position(t, 1, 1)}}
	require.NoError(t, b.credits.SetPositions(t.Context(), "user1", nil, held))

	rec, err := b.reconcile(t).Repair(t.Context())
	require.NoError(t, err)
	require.Len(t, rec.Differences, 2)
	oversold, other := rec.Differences[0], rec.Differences[1]
	assert.Equal(t, int64(5), oversold.Oversold, "the sale waits for shares that never come")
	assert.Equal(t, position(t, 2, 20), oversold.Ledger)
	assert.False(t, oversold.Repaired)
	require.ErrorIs(t, oversold.NotRepaired, app.ErrLedgerOversold)
	assert.True(t, other.Repaired, "the user's other stock is repaired")
	assert.Equal(t, []domain.Holding{held[0], {Stock: "stock2", Position: position(t, 1, 10)}}, b.held(t, "user1"))
}

// tradeDuring runs trade once, just before the first call it wraps: a
// trade judged and recorded between two reads of a reconciliation.
type tradeDuring struct {
	ports.LedgerReader
	trade func()
}

func (d *tradeDuring) AcceptedOrders(ctx context.Context, user string, each func(domain.Order) error) error {
	if d.trade != nil {
		d.trade()
		d.trade = nil
	}
	return d.LedgerReader.AcceptedOrders(ctx, user, each)
}

func TestReconcileReadsADifferenceAgainBeforeReportingIt(t *testing.T) {
	b := newBooks()
	require.NoError(t, b.credits.SetCredit(t.Context(), "user1", 1000))
	b.traded(t, "user1", "stock1", domain.SideBuy, 10, 1, false)
	b.recorded(t, "user9", "stock1", domain.SideBuy, 10, 1) // a real difference
	inFlight := &tradeDuring{LedgerReader: b.orders, trade: func() {
		b.traded(t, "user1", "stock1", domain.SideBuy, 10, 2, false)
	}}
	r := b.reconcile(t, inFlight)
	rec := check(t, r)
	assert.Equal(t, []app.PositionDifference{{User: "user9", Stock: "stock1", Ledger: position(t, 1, 10)}}, rec.Differences,
		"the buy after the positions were read is found in both on the second read")
	assert.Equal(t, 1, rec.Transient)
}

// tradeBeforeSet runs trade before the first SetPositions it wraps.
type tradeBeforeSet struct {
	*memory.CreditStore
	trade func()
}

func (d *tradeBeforeSet) SetPositions(ctx context.Context, user string, was, hs []domain.Holding) error {
	if d.trade != nil {
		d.trade()
		d.trade = nil
	}
	return d.CreditStore.SetPositions(ctx, user, was, hs)
}

func TestReconcileRepairNeverOverwritesATrade(t *testing.T) {
	b := newBooks()
	b.recorded(t, "user1", "stock1", domain.SideBuy, 10, 5)
	require.NoError(t, b.credits.SetCredit(t.Context(), "user1", 1000))
	setter := &tradeBeforeSet{CreditStore: b.credits, trade: func() {
		b.traded(t, "user1", "stock1", domain.SideBuy, 10, 1, false)
	}}
	rec, err := b.reconcile(t, ports.PositionSetter(setter)).Repair(t.Context())
	require.NoError(t, err)
	require.Len(t, rec.Differences, 1)
	assert.False(t, rec.Differences[0].Repaired)
	require.ErrorIs(t, rec.Differences[0].NotRepaired, ports.ErrPositionsChanged)
	assert.Equal(t, []domain.Holding{{Stock: "stock1", Position: position(t, 1, 10)}}, b.held(t, "user1"),
		"the trade's position stands; the next run repairs it")
	_, err = b.reconcile(t).Repair(t.Context())
	require.NoError(t, err)
	assert.Equal(t, []domain.Holding{{Stock: "stock1", Position: position(t, 6, 60)}}, b.held(t, "user1"))
}

func TestReconcileAfterAnUpgradeReadsEveryoneAgain(t *testing.T) {
	b := newBooks()
	const users = 1200 // more than are read again one by one
	for i := range users {
		b.recorded(t, fmt.Sprintf("user%d", i), "stock1", domain.SideBuy, 10, int64(i+1))
	}
	r := b.reconcile(t)
	rec := check(t, r)
	assert.Len(t, rec.Differences, users)
	assert.Equal(t, users, rec.Users)
	rec, err := r.Repair(t.Context())
	require.NoError(t, err)
	for _, d := range rec.Differences {
		require.True(t, d.Repaired, d.User)
	}
	assert.Empty(t, check(t, r).Differences)
	assert.Equal(t, []domain.Holding{{Stock: "stock1", Position: position(t, 7, 70)}}, b.held(t, "user6"))
}

// scrambled is a ledger whose orders of one user's stock do not come
// together.
type scrambled struct{ orders []domain.Order }

func (s scrambled) AcceptedOrders(_ context.Context, _ string, each func(domain.Order) error) error {
	for _, o := range s.orders {
		if err := each(o); err != nil {
			return err
		}
	}
	return nil
}

func TestReconcileRefusesALedgerOutOfOrder(t *testing.T) {
	b := newBooks()
	o1 := b.recorded(t, "user1", "stock1", domain.SideBuy, 10, 1)
	o2 := b.recorded(t, "user1", "stock2", domain.SideBuy, 10, 1)
	_, err := b.reconcile(t, ports.LedgerReader(scrambled{[]domain.Order{o1, o2, o1}})).Check(t.Context())
	require.ErrorContains(t, err, "did not come together")
}

func TestNewReconcileRefusesNil(t *testing.T) {
	b := newBooks()
	_, err := app.NewReconcile(b.credits, b.credits, b.credits, nil)
	require.Error(t, err)
	_, err = app.NewReconcile(nil, b.credits, b.credits, b.orders)
	require.Error(t, err)
}
