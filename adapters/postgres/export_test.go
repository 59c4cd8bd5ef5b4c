package postgres

// ListingSQLForTest exposes the listing query to the plan test.
func ListingSQLForTest(cursor, user, side bool) string {
	return listingSQL(listingShape{cursor: cursor, user: user, side: side})
}
