package postgres

// ListingSQLForTest exposes the listing query to the plan test.
func ListingSQLForTest(cursor bool) string { return listingSQL(cursor) }
