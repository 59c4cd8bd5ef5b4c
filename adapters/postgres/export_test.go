package postgres

// ListingSQLForTest exposes the listing query to the plan test.
func ListingSQLForTest(cursor, user bool) string { return listingSQL(cursor, user) }
