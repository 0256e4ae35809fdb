//! Device choice, in one place: CUDA when the crate is built with the `cuda` feature
//! and a GPU is present, else the CPU.

use candle_core::Device;

/// What the user asked for on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DeviceChoice {
    /// CUDA if available, else CPU.
    #[default]
    Auto,
    Cpu,
    Cuda,
}

impl std::str::FromStr for DeviceChoice {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "auto" => Ok(Self::Auto),
            "cpu" => Ok(Self::Cpu),
            "cuda" => Ok(Self::Cuda),
            other => Err(format!("expected auto, cpu or cuda, found `{other}`")),
        }
    }
}

/// The device to run on. `Cuda` fails with a clear message when the binary was built
/// without the `cuda` feature or no GPU answers; `Auto` falls back to the CPU.
pub fn pick_device(choice: DeviceChoice) -> candle_core::Result<Device> {
    match choice {
        DeviceChoice::Cpu => Ok(Device::Cpu),
        DeviceChoice::Cuda => {
            if !candle_core::utils::cuda_is_available() {
                return Err(candle_core::Error::Msg(
                    "--device cuda: this build has no CUDA support (rebuild with `--features cuda`) \
                     or no GPU is present"
                        .into(),
                ));
            }
            let device = Device::new_cuda(0)?;
            announce_kernel_compilation();
            Ok(device)
        }
        DeviceChoice::Auto => {
            if candle_core::utils::cuda_is_available()
                && let Ok(device) = Device::new_cuda(0)
            {
                announce_kernel_compilation();
                return Ok(device);
            }
            Ok(Device::Cpu)
        }
    }
}

/// The GPU kernels ship as PTX that the driver compiles on first use and caches (in
/// `CUDA_CACHE_PATH`, by default `~/.nv/ComputeCache`): about 30 s once per machine.
/// Says so when that cache is empty, so the wait is not mistaken for a hang.
fn announce_kernel_compilation() {
    let cache = std::env::var_os("CUDA_CACHE_PATH")
        .map(std::path::PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME").map(|h| std::path::Path::new(&h).join(".nv/ComputeCache"))
        });
    let empty = cache
        .as_deref()
        .is_none_or(|dir| std::fs::read_dir(dir).map_or(true, |mut d| d.next().is_none()));
    if empty {
        tracing::info!(
            "first use of the GPU on this machine: the driver compiles scanscribe's GPU kernels \
             once (about 30 s); they are cached for later runs"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_is_always_available_and_bad_names_are_explained() {
        assert!(pick_device(DeviceChoice::Cpu).unwrap().is_cpu());
        assert!(pick_device(DeviceChoice::Auto).is_ok());
        let err = "gpu".parse::<DeviceChoice>().unwrap_err();
        assert!(err.contains("auto, cpu or cuda"), "{err}");
    }
}
