//! A small builder for the optional-filter queries the read commands run (alerts, audit log):
//! each filter adds one bound condition, so values never reach the SQL text.

use rusqlite::types::Value;

pub(crate) struct Filtered {
    sql: String,
    args: Vec<Value>,
}

impl Filtered {
    /// Starts from a SELECT with no WHERE clause.
    pub(crate) fn new(select: &str) -> Self {
        Filtered {
            sql: format!("{select} WHERE 1 = 1"),
            args: Vec::new(),
        }
    }

    /// Adds `AND <condition>` binding `value` to its one `?`, when the filter is set.
    pub(crate) fn and(mut self, condition: &str, value: Option<impl Into<Value>>) -> Self {
        if let Some(v) = value {
            self.sql.push_str(" AND ");
            self.sql.push_str(condition);
            self.args.push(v.into());
        }
        self
    }

    /// As [`Filtered::and`] for a condition with two `?`, both bound to `value`.
    pub(crate) fn and_twice(
        mut self,
        condition: &str,
        value: Option<impl Into<Value> + Clone>,
    ) -> Self {
        if let Some(v) = value {
            self.sql.push_str(" AND ");
            self.sql.push_str(condition);
            self.args.push(v.clone().into());
            self.args.push(v.into());
        }
        self
    }

    /// Finishes with an ORDER BY and an optional LIMIT.
    pub(crate) fn finish(mut self, order_by: &str, limit: Option<u32>) -> (String, Vec<Value>) {
        self.sql.push_str(" ORDER BY ");
        self.sql.push_str(order_by);
        if let Some(l) = limit {
            self.sql.push_str(" LIMIT ?");
            self.args.push(i64::from(l).into());
        }
        (self.sql, self.args)
    }
}
