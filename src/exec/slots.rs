//! Numbered GPU slots: a scarce resource handed to one stage at a time.

use crate::device::GpuSlot;

pub struct SlotPool {
    free: Vec<GpuSlot>,
    total: usize,
}

impl SlotPool {
    /// Slots for `gpus`, `per_gpu` each. Slots are handed out spread over
    /// GPUs first.
    pub fn new(gpus: &[Gpu], per_gpu: usize) -> Self {
        let mut free = Vec::new();
        for slot in 0..per_gpu {
            for gpu in gpus {
                free.push(GpuSlot {
                    ordinal: gpu.ordinal,
                    id: gpu.id.clone(),
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

/// A GPU stages may be handed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Gpu {
    /// Its id, as a child's `CUDA_VISIBLE_DEVICES` names it.
    pub id: String,
    /// Its index as this process sees it (`cuda:N` in-process).
    pub ordinal: usize,
}

/// The GPUs to schedule on: `--gpus` (`flag`), else those
/// `CUDA_VISIBLE_DEVICES` (`visible`) lists, else the `detected` GPUs
/// numbered from 0. CUDA numbers the GPUs `CUDA_VISIBLE_DEVICES` lists from
/// 0, so an id of `--gpus` is found there when it is set, and is the index
/// itself when it is not.
pub fn gpus(
    flag: Option<&str>,
    visible: Option<&str>,
    detected: usize,
) -> Result<Vec<Gpu>, String> {
    // CUDA reads its list up to the first id that is not one (`-1`).
    let visible: Option<Vec<String>> =
        visible.map(|v| ids(v.split(',').take_while(|s| s.trim() != "-1")));
    let numbered = |ids: Vec<String>| {
        ids.into_iter()
            .enumerate()
            .map(|(ordinal, id)| Gpu { id, ordinal })
            .collect()
    };
    let Some(flag) = flag else {
        return Ok(match visible {
            Some(visible) => numbered(visible),
            None => numbered((0..detected).map(|i| i.to_string()).collect()),
        });
    };
    ids(flag.split(','))
        .into_iter()
        .map(|id| {
            let ordinal = match &visible {
                Some(visible) => visible_position(&id, visible)?,
                None => match id.parse() {
                    Ok(index) if detected > 0 && index >= detected => {
                        return Err(format!("--gpus {id}: this machine has {detected} GPU(s)"));
                    }
                    Ok(index) => index,
                    Err(_) => {
                        return Err(format!(
                            "--gpus {id}: without CUDA_VISIBLE_DEVICES, name GPUs by index (0, 1, ...)"
                        ));
                    }
                },
            };
            Ok(Gpu { id, ordinal })
        })
        .collect()
}

/// The ids a comma-separated list names, `-1` and blanks left out.
fn ids<'a>(parts: impl Iterator<Item = &'a str>) -> Vec<String> {
    parts
        .map(str::trim)
        .filter(|s| !s.is_empty() && *s != "-1")
        .map(str::to_string)
        .collect()
}

/// Where `id` is in `visible`. CUDA takes a UUID there by any unique
/// prefix (`GPU-8932f937`), so a UUID matches the entry it extends, or
/// that extends it, when just one does.
fn visible_position(id: &str, visible: &[String]) -> Result<usize, String> {
    if let Some(at) = visible.iter().position(|v| v == id) {
        return Ok(at);
    }
    let uuid = |s: &str| s.starts_with("GPU-") || s.starts_with("MIG-");
    let extends: Vec<usize> = visible
        .iter()
        .enumerate()
        .filter(|(_, v)| uuid(id) && uuid(v) && (id.starts_with(v.as_str()) || v.starts_with(id)))
        .map(|(at, _)| at)
        .collect();
    match extends[..] {
        [at] => Ok(at),
        [] => Err(format!(
            "--gpus {id}: this process sees only CUDA_VISIBLE_DEVICES={}",
            visible.join(",")
        )),
        _ => Err(format!(
            "--gpus {id}: names several of CUDA_VISIBLE_DEVICES={}; give more of the UUID",
            visible.join(",")
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spreads_over_gpus_then_slots() {
        let gpus = gpus(Some("3,5"), Some("1,3,5"), 0).unwrap();
        let mut pool = SlotPool::new(&gpus, 2);
        let a = pool.take().unwrap();
        let b = pool.take().unwrap();
        assert_eq!((a.ordinal, a.id.as_str(), a.slot), (1, "3", 0));
        assert_eq!((b.ordinal, b.id.as_str(), b.slot), (2, "5", 0));
        assert_eq!(pool.take().unwrap().slot, 1);
        assert_eq!(pool.take().unwrap().slot, 1);
        assert!(pool.take().is_none());
        pool.give_back(a.clone());
        assert_eq!(pool.take(), Some(a));
        assert!(SlotPool::new(&[], 4).is_empty());
    }

    /// In-process trainings run on `cuda:ordinal`: the GPU's index among
    /// those this process sees, whatever `--gpus` calls it.
    #[test]
    fn a_gpu_is_numbered_as_this_process_sees_it() {
        let ordinals = |flag, visible, detected| -> Result<Vec<(String, usize)>, String> {
            Ok(gpus(flag, visible, detected)?
                .into_iter()
                .map(|g| (g.id, g.ordinal))
                .collect())
        };
        let pairs = |list: &[(&str, usize)]| -> Vec<(String, usize)> {
            list.iter().map(|(id, o)| (id.to_string(), *o)).collect()
        };
        assert_eq!(
            ordinals(Some("2,3"), None, 4),
            Ok(pairs(&[("2", 2), ("3", 3)]))
        );
        assert_eq!(ordinals(None, None, 2), Ok(pairs(&[("0", 0), ("1", 1)])));
        assert_eq!(
            ordinals(Some("2"), None, 2),
            Err("--gpus 2: this machine has 2 GPU(s)".into())
        );
        assert_eq!(
            ordinals(None, Some("4,GPU-ab"), 2),
            Ok(pairs(&[("4", 0), ("GPU-ab", 1)]))
        );
        assert_eq!(
            ordinals(Some("GPU-ab"), Some("4,GPU-ab"), 2),
            Ok(pairs(&[("GPU-ab", 1)]))
        );
        // UUIDs, either side a prefix of the other, as CUDA takes them.
        assert_eq!(
            ordinals(Some("GPU-ab12-34"), Some("0,GPU-ab12"), 2),
            Ok(pairs(&[("GPU-ab12-34", 1)]))
        );
        assert_eq!(
            ordinals(Some("GPU-ab"), Some("GPU-ab12,GPU-cd"), 2),
            Ok(pairs(&[("GPU-ab", 0)]))
        );
        assert_eq!(
            ordinals(Some("GPU-a"), Some("GPU-ab,GPU-ac"), 2),
            Err("--gpus GPU-a: names several of CUDA_VISIBLE_DEVICES=GPU-ab,GPU-ac; give more of the UUID".into())
        );
        assert_eq!(
            ordinals(Some("GPU"), Some("GPU-ab"), 2),
            Err("--gpus GPU: this process sees only CUDA_VISIBLE_DEVICES=GPU-ab".into())
        );
        assert_eq!(ordinals(None, Some("-1"), 2), Ok(vec![]));
        assert_eq!(ordinals(None, Some("0,-1,1"), 2), Ok(pairs(&[("0", 0)])));
        assert_eq!(ordinals(None, Some("-1,0"), 2), Ok(vec![]));
        assert_eq!(
            ordinals(Some("0,-1,1"), None, 2),
            Ok(pairs(&[("0", 0), ("1", 1)]))
        );
        assert_eq!(
            ordinals(Some("5"), Some("4,6"), 2),
            Err("--gpus 5: this process sees only CUDA_VISIBLE_DEVICES=4,6".into())
        );
        assert_eq!(
            ordinals(Some("GPU-ab"), None, 2),
            Err(
                "--gpus GPU-ab: without CUDA_VISIBLE_DEVICES, name GPUs by index (0, 1, ...)"
                    .into()
            )
        );
    }
}
