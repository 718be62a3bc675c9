//! Numbered GPU slots: a scarce resource handed to one stage at a time.

use crate::device::GpuSlot;

pub struct SlotPool {
    free: Vec<GpuSlot>,
    total: usize,
}

impl SlotPool {
    /// Slots for `gpus` (ids as in `CUDA_VISIBLE_DEVICES`), `per_gpu` each.
    /// Slots are handed out spread over GPUs first.
    pub fn new(gpus: &[String], per_gpu: usize) -> Self {
        let mut free = Vec::new();
        for slot in 0..per_gpu {
            for (ordinal, id) in gpus.iter().enumerate() {
                free.push(GpuSlot {
                    ordinal,
                    id: id.clone(),
                    slot,
                });
            }
        }
        // `take` pops from the back; keep the first slot first.
        free.reverse();
        let total = free.len();
        SlotPool { free, total }
    }

    /// True when there are no GPUs at all (GPU stages then run on the CPU).
    pub fn is_empty(&self) -> bool {
        self.total == 0
    }

    pub fn take(&mut self) -> Option<GpuSlot> {
        self.free.pop()
    }

    pub fn give_back(&mut self, slot: GpuSlot) {
        self.free.push(slot);
    }
}

/// GPU ids from `--gpus`, else `CUDA_VISIBLE_DEVICES`, else the `detected`
/// GPUs numbered from 0.
pub fn gpu_ids(flag: Option<&str>, detected: usize) -> Vec<String> {
    let from_env = std::env::var("CUDA_VISIBLE_DEVICES").ok();
    let Some(list) = flag.map(str::to_string).or(from_env) else {
        return (0..detected).map(|i| i.to_string()).collect();
    };
    list.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty() && *s != "-1")
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spreads_over_gpus_then_slots() {
        let mut pool = SlotPool::new(&["3".into(), "5".into()], 2);
        let a = pool.take().unwrap();
        let b = pool.take().unwrap();
        assert_eq!((a.ordinal, a.id.as_str(), a.slot), (0, "3", 0));
        assert_eq!((b.ordinal, b.id.as_str(), b.slot), (1, "5", 0));
        assert_eq!(pool.take().unwrap().slot, 1);
        assert_eq!(pool.take().unwrap().slot, 1);
        assert!(pool.take().is_none());
        pool.give_back(a.clone());
        assert_eq!(pool.take(), Some(a));
        assert!(SlotPool::new(&[], 4).is_empty());
    }
}
