package ports

// PriceStore is a price adapter whole, the union of the small ports its
// callers take, for the contract suite (storetest.PriceStore) and the
// adapters' compile-time checks. It keeps the minute-wise price series of
// every stock, one per trading day: the latest day's under the stock's own
// key, earlier days apart, each kept PRICE_HISTORY_DAYS after its day.
type PriceStore interface {
	PriceMerger
	SeriesReader
	DayLister
	QuoteReader
	QuotesReader
}
