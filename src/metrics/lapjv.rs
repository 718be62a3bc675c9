//! A Jonker-Volgenant style solver for dense square linear assignment:
//! LAPJV's column reduction with reduction transfer assigns many rows
//! cheaply, then each remaining row is inserted along a shortest augmenting
//! path found by Dijkstra's algorithm on reduced costs, with column prices
//! as the dual variables. JV's augmenting row reduction phase is left out:
//! on geometric costs with many near ties it cost more than it saved.

/// Solver state for an `n x n` row-major cost matrix of finite values.
pub(crate) struct Lapjv<'a> {
    n: usize,
    cost: &'a [f64],
    /// Column currently assigned to each row.
    row_to_col: Vec<Option<usize>>,
    /// Row currently assigned to each column.
    col_to_row: Vec<Option<usize>>,
    /// Dual potential (price) of each column; row potentials stay implicit.
    price: Vec<f64>,
}

impl<'a> Lapjv<'a> {
    /// Prepares to solve; `cost.len()` must be `n * n` with `n >= 1` and
    /// every entry finite (the caller validates user data).
    pub(crate) fn new(cost: &'a [f64], n: usize) -> Self {
        Self {
            n,
            cost,
            row_to_col: vec![None; n],
            col_to_row: vec![None; n],
            price: vec![f64::INFINITY; n],
        }
    }

    /// Returns an optimal `row -> column` permutation.
    pub(crate) fn solve(mut self) -> Vec<usize> {
        for row in self.column_reduction() {
            self.augment(row);
        }
        // Augmentation leaves every row assigned; unwrap_or keeps this
        // total without a panic path.
        self.row_to_col.iter().map(|col| col.unwrap_or(0)).collect()
    }

    /// Cost of `(row, col)` less the column's price.
    fn reduced(&self, row: usize, col: usize) -> f64 {
        self.cost[row * self.n + col] - self.price[col]
    }

    /// Prices each column at its smallest cost and gives it to the row
    /// attaining it when that row is still free; then lowers the price of
    /// each uniquely assigned column by its row's slack to its second-best
    /// column ("reduction transfer"). Returns the rows left free.
    fn column_reduction(&mut self) -> Vec<usize> {
        let n = self.n;
        let mut argmin = vec![0; n];
        for (row, costs) in self.cost.chunks_exact(n).enumerate() {
            for ((price, best_row), &c) in self.price.iter_mut().zip(&mut argmin).zip(costs) {
                if c < *price {
                    *price = c;
                    *best_row = row;
                }
            }
        }
        let mut unique = vec![true; n];
        for (col, &row) in argmin.iter().enumerate() {
            if self.row_to_col[row].is_none() {
                self.row_to_col[row] = Some(col);
                self.col_to_row[col] = Some(row);
            } else {
                unique[row] = false;
            }
        }
        let mut free = Vec::new();
        for (row, &is_unique) in unique.iter().enumerate() {
            match self.row_to_col[row] {
                None => free.push(row),
                Some(col) if is_unique => {
                    let slack = (0..n)
                        .filter(|&other| other != col)
                        .map(|other| self.reduced(row, other))
                        .fold(f64::INFINITY, f64::min);
                    // With n == 1 there is no second column to transfer from.
                    if slack.is_finite() {
                        self.price[col] -= slack;
                    }
                }
                Some(_) => {}
            }
        }
        free
    }

    /// Finds a shortest augmenting path of reduced costs from the free
    /// `start` row to a free column, raises the prices of the columns it
    /// settled so the duals stay feasible, and flips the path.
    fn augment(&mut self, start: usize) {
        let n = self.n;
        // The matrix is square, so a free row implies a free column. Seeding
        // every minimum search with it means the search always ends on a
        // real column, even if distances were to overflow to infinity.
        let Some(free_col) = self.col_to_row.iter().position(Option::is_none) else {
            return;
        };
        let mut dist = vec![f64::INFINITY; n];
        let mut pred = vec![start; n];
        let mut settled = vec![false; n];
        let mut settled_order = Vec::new();
        // Path lengths are relative: the unknown potential of `start` would
        // shift them all equally, so it is taken as zero.
        let (mut row, mut offset) = (start, 0.0);
        let end = loop {
            // Relax the unsettled columns through `row`, then settle the
            // nearest one (Dijkstra) unless it is free and ends the path.
            let row_costs = &self.cost[row * n..(row + 1) * n];
            let (mut nearest, mut nearest_dist) = (free_col, dist[free_col]);
            for col in 0..n {
                if settled[col] {
                    continue;
                }
                let through = row_costs[col] - self.price[col] + offset;
                if through < dist[col] {
                    dist[col] = through;
                    pred[col] = row;
                }
                if dist[col] < nearest_dist {
                    (nearest, nearest_dist) = (col, dist[col]);
                }
            }
            let Some(owner) = self.col_to_row[nearest] else {
                break nearest;
            };
            settled[nearest] = true;
            settled_order.push(nearest);
            // The owner's reduced cost to `nearest` is zero at its own
            // potential, which fixes the offset of paths through the owner.
            let owner_cost = self.cost[owner * n + nearest] - self.price[nearest];
            (row, offset) = (owner, dist[nearest] - owner_cost);
        };
        let reached = dist[end];
        for col in settled_order {
            self.price[col] += dist[col] - reached;
        }
        // Walk back to `start`, the only row on the path without a column.
        let mut col = Some(end);
        while let Some(current) = col {
            let row = pred[current];
            self.col_to_row[current] = Some(row);
            col = self.row_to_col[row].replace(current);
        }
    }
}
