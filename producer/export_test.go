package producer

// IllegalTransition is the first change of a pending's state that the
// transitions table does not allow, or "" (for TestMain in producer_test).
func IllegalTransition() string {
	if s := illegalTransition.Load(); s != nil {
		return *s
	}
	return ""
}
