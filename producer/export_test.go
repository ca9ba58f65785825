package producer

// IllegalTransition is the first change of a pending's state that the
// transitions table does not allow, or "" (for TestMain in producer_test).
func IllegalTransition() string {
	if s := illegalTransition.Load(); s != nil {
		return *s
	}
	return ""
}

// Requeued is how many records franz-go handed back to p before their
// deadline, which went back to the hand-off queue (handoff.pushFront).
func Requeued(p *Producer) int64 { return p.handoff.requeued.Load() }
