//! Which device a stage computes on: what the user asked for.

use std::fmt;
use std::str::FromStr;

/// `auto` (a GPU if one is compiled in and present, else the best CPU
/// backend compiled in), `cpu` (the best CPU backend), `flex` (burn's pure
/// Rust CPU backend, always there), or `cuda:N`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DeviceChoice {
    #[default]
    Auto,
    Cpu,
    Flex,
    Cuda(usize),
}

impl FromStr for DeviceChoice {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "auto" => Ok(DeviceChoice::Auto),
            "cpu" => Ok(DeviceChoice::Cpu),
            "flex" => Ok(DeviceChoice::Flex),
            "cuda" | "gpu" => Ok(DeviceChoice::Cuda(0)),
            _ => s
                .strip_prefix("cuda:")
                .and_then(|n| n.parse().ok())
                .map(DeviceChoice::Cuda)
                .ok_or_else(|| {
                    format!("unknown device `{s}` (expected auto, cpu, flex or cuda:N)")
                }),
        }
    }
}

impl fmt::Display for DeviceChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeviceChoice::Auto => f.write_str("auto"),
            DeviceChoice::Cpu => f.write_str("cpu"),
            DeviceChoice::Flex => f.write_str("flex"),
            DeviceChoice::Cuda(n) => write!(f, "cuda:{n}"),
        }
    }
}

impl serde::Serialize for DeviceChoice {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> serde::Deserialize<'de> for DeviceChoice {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// One slot on one GPU.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GpuSlot {
    /// Index of the GPU as this process sees it (`cuda:N` in-process).
    pub ordinal: usize,
    /// The GPU's id for a child's `CUDA_VISIBLE_DEVICES`.
    pub id: String,
    /// Which of the GPU's slots this is.
    pub slot: usize,
}

impl GpuSlot {
    /// `GPU-ID:SLOT`, as timelines name the lane.
    pub fn label(&self) -> String {
        format!("{}:{}", self.id, self.slot)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_devices() {
        assert_eq!("cuda:1".parse(), Ok(DeviceChoice::Cuda(1)));
        assert_eq!("cpu".parse(), Ok(DeviceChoice::Cpu));
        assert!("tpu".parse::<DeviceChoice>().is_err());
        assert_eq!(DeviceChoice::Cuda(2).to_string(), "cuda:2");
    }
}
