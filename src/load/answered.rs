//! The instanceIds every order's answers named, kept until the load ends so that idempotency
//! can be judged across orders (an order answered with two instances, two orders sharing one).
//!
//! A load keeps one entry per order — hundreds of thousands — for its whole run, so the ids
//! share one text buffer instead of a `String` each and a `Vec` per order: the ids' bytes and
//! 24 bytes of positions an order (about 80 bytes) instead of four allocations (about 220),
//! and no allocation per order once the buffers have grown.

/// Every order one worker sent, with the instanceIds its answers named, in the order sent.
#[derive(Debug, Default)]
pub(crate) struct AnsweredOrders {
    /// Order ids and instance ids, back to back.
    text: String,
    /// Where each piece of `text` ends.
    ends: Vec<usize>,
    /// For each order, the index in `ends` of its id; the pieces after it, up to the next
    /// order's id, are the instance ids its answers named.
    orders: Vec<usize>,
}

impl AnsweredOrders {
    /// Starts the next order: the instance ids named from now on are its answers'.
    pub(crate) fn order(&mut self, order: &str) {
        self.orders.push(self.ends.len());
        self.push(order);
    }

    /// Room for about `orders` orders, so that the buffers do not grow (and copy themselves)
    /// while the load runs.
    pub(crate) fn with_capacity(orders: usize) -> Self {
        Self {
            // An order id and one instance id; documented ones are 17 and 36 bytes.
            text: String::with_capacity(orders * 64),
            ends: Vec::with_capacity(orders * 2),
            orders: Vec::with_capacity(orders),
        }
    }

    /// An instanceId one of the current order's answers named; kept once per order (an
    /// order's resends all name the same instance when the merchant is idempotent).
    pub(crate) fn named(&mut self, instance: &str) {
        let Some(&current) = self.orders.last() else {
            debug_assert!(false, "an answer before any order");
            return;
        };
        if (current + 1..self.ends.len()).any(|k| self.piece(k) == instance) {
            return;
        }
        self.push(instance);
    }

    /// Each order with the distinct instance ids its answers named, in the order the orders
    /// were sent.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&str, impl ExactSizeIterator<Item = &str>)> {
        self.orders.iter().enumerate().map(|(index, &first)| {
            let next = self.orders.get(index + 1).copied();
            let last = next.unwrap_or(self.ends.len());
            (self.piece(first), (first + 1..last).map(|k| self.piece(k)))
        })
    }

    fn push(&mut self, piece: &str) {
        self.text.push_str(piece);
        self.ends.push(self.text.len());
    }

    fn piece(&self, k: usize) -> &str {
        let start = k.checked_sub(1).map_or(0, |before| self.ends[before]);
        &self.text[start..self.ends[k]]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listed(answered: &AnsweredOrders) -> Vec<(String, Vec<String>)> {
        answered
            .iter()
            .map(|(order, ids)| (order.to_owned(), ids.map(str::to_owned).collect()))
            .collect()
    }

    #[test]
    fn each_order_keeps_the_distinct_ids_named_after_it_until_the_next() {
        let mut answered = AnsweredOrders::default();
        answered.order("CS1");
        answered.named("i-1");
        answered.named("i-2");
        answered.named("i-1");
        answered.order("CS2");
        answered.order("CS3");
        answered.named("实例-3");
        assert_eq!(
            listed(&answered),
            [
                ("CS1".into(), vec!["i-1".into(), "i-2".into()]),
                ("CS2".into(), vec![]),
                ("CS3".into(), vec!["实例-3".into()]),
            ]
        );
    }

    #[test]
    fn empty_ids_are_kept_as_named() {
        // A merchant answering `"instanceId": ""` names an (empty) instance all the same.
        let mut answered = AnsweredOrders::default();
        answered.order("CS1");
        answered.named("");
        answered.order("");
        assert_eq!(
            listed(&answered),
            [("CS1".into(), vec![String::new()]), (String::new(), vec![])]
        );
    }

    #[test]
    fn nothing_recorded_lists_nothing() {
        assert_eq!(listed(&AnsweredOrders::default()), []);
    }
}
