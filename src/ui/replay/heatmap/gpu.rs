//! The heat map on the GPU: the pipelines of `shaders/heatmap.wgsl`, kept in egui_wgpu's
//! callback resources (created once, for the window's target format, by [`install`]),
//! and the paint callback that draws one heat map over one stimulus view.
//!
//! Per frame and view, `prepare` encodes (into egui's encoder, before its render pass)
//! the accumulation of the kernels into a float texture the size of the view (capped,
//! see [`super::density_size_px`]) and the peak search; `paint` then draws the coloured
//! result into egui's pass over the view's rectangle. The same two steps render
//! offscreen in the tests, which compare them with [`super::cpu`].

use std::collections::HashMap;

use eframe::egui_wgpu;
use eframe::wgpu;
use wgpu::util::DeviceExt as _;

use super::{ALPHA_RAMP, EXTENT_SIGMAS, HeatmapInput};

const SHADER: &str = include_str!("../../../../shaders/heatmap.wgsl");
const DENSITY_FORMAT: wgpu::TextureFormat = wgpu::TextureFormat::R16Float;
/// Bytes per kernel instance: centre (2 × f32), weight (f32).
const KERNEL_BYTES: u64 = 12;

/// The compiled pipelines, for one output format.
pub struct HeatmapPipelines {
    accumulate: wgpu::RenderPipeline,
    peak: wgpu::ComputePipeline,
    colorize: wgpu::RenderPipeline,
    sampler: wgpu::Sampler,
    srgb_target: bool,
}

/// The GPU objects of one view's heat map, reused while its size stays the same.
struct Slot {
    size_px: [u32; 2],
    density_view: wgpu::TextureView,
    accumulate_uniform: wgpu::Buffer,
    accumulate_bind: wgpu::BindGroup,
    peak_buffer: wgpu::Buffer,
    peak_bind: wgpu::BindGroup,
    colorize_uniform: wgpu::Buffer,
    colorize_bind: wgpu::BindGroup,
}

/// What lives in egui_wgpu's callback resources: the pipelines and a slot per view.
pub struct HeatmapResources {
    pub pipelines: HeatmapPipelines,
    slots: HashMap<u64, Slot>,
}

/// Puts the heat map pipelines into the renderer's callback resources, for its target
/// format. Without this (a renderer that is not wgpu), heat maps are not drawn.
pub fn install(render_state: &egui_wgpu::RenderState) {
    let resources = HeatmapResources::new(&render_state.device, render_state.target_format);
    render_state
        .renderer
        .write()
        .callback_resources
        .insert(resources);
}

impl HeatmapPipelines {
    pub fn new(device: &wgpu::Device, target_format: wgpu::TextureFormat) -> Self {
        let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some("heatmap.wgsl"),
            source: wgpu::ShaderSource::Wgsl(SHADER.into()),
        });
        let additive = wgpu::BlendComponent {
            src_factor: wgpu::BlendFactor::One,
            dst_factor: wgpu::BlendFactor::One,
            operation: wgpu::BlendOperation::Add,
        };
        let accumulate = render_pipeline(
            device,
            &module,
            ("heatmap-accumulate", "vs_kernel", "fs_kernel"),
            &[Some(wgpu::VertexBufferLayout {
                array_stride: KERNEL_BYTES,
                step_mode: wgpu::VertexStepMode::Instance,
                attributes: &wgpu::vertex_attr_array![0 => Float32x2, 1 => Float32],
            })],
            wgpu::ColorTargetState {
                format: DENSITY_FORMAT,
                blend: Some(wgpu::BlendState {
                    color: additive,
                    alpha: additive,
                }),
                write_mask: wgpu::ColorWrites::ALL,
            },
        );
        let peak = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
            label: Some("heatmap-peak"),
            layout: None,
            module: &module,
            entry_point: Some("cs_peak"),
            compilation_options: wgpu::PipelineCompilationOptions::default(),
            cache: None,
        });
        // Premultiplied alpha, as egui blends.
        let colorize = render_pipeline(
            device,
            &module,
            ("heatmap-colorize", "vs_fullscreen", "fs_colorize"),
            &[],
            wgpu::ColorTargetState {
                format: target_format,
                blend: Some(wgpu::BlendState {
                    color: wgpu::BlendComponent {
                        src_factor: wgpu::BlendFactor::One,
                        dst_factor: wgpu::BlendFactor::OneMinusSrcAlpha,
                        operation: wgpu::BlendOperation::Add,
                    },
                    alpha: wgpu::BlendComponent {
                        src_factor: wgpu::BlendFactor::OneMinusDstAlpha,
                        dst_factor: wgpu::BlendFactor::One,
                        operation: wgpu::BlendOperation::Add,
                    },
                }),
                write_mask: wgpu::ColorWrites::ALL,
            },
        );
        let sampler = device.create_sampler(&wgpu::SamplerDescriptor {
            label: Some("heatmap-density"),
            mag_filter: wgpu::FilterMode::Linear,
            min_filter: wgpu::FilterMode::Linear,
            ..Default::default()
        });
        Self {
            accumulate,
            peak,
            colorize,
            sampler,
            srgb_target: target_format.is_srgb(),
        }
    }

    fn slot(&self, device: &wgpu::Device, size_px: [u32; 2]) -> Slot {
        let density = device.create_texture(&wgpu::TextureDescriptor {
            label: Some("heatmap-density"),
            size: wgpu::Extent3d {
                width: size_px[0],
                height: size_px[1],
                depth_or_array_layers: 1,
            },
            mip_level_count: 1,
            sample_count: 1,
            dimension: wgpu::TextureDimension::D2,
            format: DENSITY_FORMAT,
            usage: wgpu::TextureUsages::RENDER_ATTACHMENT | wgpu::TextureUsages::TEXTURE_BINDING,
            view_formats: &[],
        });
        let density_view = density.create_view(&wgpu::TextureViewDescriptor::default());
        let uniform = |label| {
            device.create_buffer(&wgpu::BufferDescriptor {
                label: Some(label),
                size: 16,
                usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
                mapped_at_creation: false,
            })
        };
        let accumulate_uniform = uniform("heatmap-accumulate-uniform");
        let colorize_uniform = uniform("heatmap-colorize-uniform");
        let peak_buffer = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("heatmap-peak"),
            size: 4,
            usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let bind = |label,
                    layout: &wgpu::BindGroupLayout,
                    entries: &[(u32, wgpu::BindingResource<'_>)]| {
            let entries: Vec<wgpu::BindGroupEntry<'_>> = entries
                .iter()
                .map(|(binding, resource)| wgpu::BindGroupEntry {
                    binding: *binding,
                    resource: resource.clone(),
                })
                .collect();
            device.create_bind_group(&wgpu::BindGroupDescriptor {
                label: Some(label),
                layout,
                entries: &entries,
            })
        };
        let accumulate_bind = bind(
            "heatmap-accumulate",
            &self.accumulate.get_bind_group_layout(0),
            &[(0, accumulate_uniform.as_entire_binding())],
        );
        let peak_bind = bind(
            "heatmap-peak",
            &self.peak.get_bind_group_layout(0),
            &[
                (1, wgpu::BindingResource::TextureView(&density_view)),
                (2, peak_buffer.as_entire_binding()),
            ],
        );
        let colorize_bind = bind(
            "heatmap-colorize",
            &self.colorize.get_bind_group_layout(0),
            &[
                (3, wgpu::BindingResource::TextureView(&density_view)),
                (4, wgpu::BindingResource::Sampler(&self.sampler)),
                (5, colorize_uniform.as_entire_binding()),
                (6, peak_buffer.as_entire_binding()),
            ],
        );
        Slot {
            size_px,
            density_view,
            accumulate_uniform,
            accumulate_bind,
            peak_buffer,
            peak_bind,
            colorize_uniform,
            colorize_bind,
        }
    }
}

fn render_pipeline(
    device: &wgpu::Device,
    module: &wgpu::ShaderModule,
    (label, vertex, fragment): (&str, &str, &str),
    buffers: &[Option<wgpu::VertexBufferLayout<'_>>],
    target: wgpu::ColorTargetState,
) -> wgpu::RenderPipeline {
    device.create_render_pipeline(&wgpu::RenderPipelineDescriptor {
        label: Some(label),
        layout: None,
        vertex: wgpu::VertexState {
            module,
            entry_point: Some(vertex),
            buffers,
            compilation_options: wgpu::PipelineCompilationOptions::default(),
        },
        primitive: wgpu::PrimitiveState::default(),
        depth_stencil: None,
        multisample: wgpu::MultisampleState::default(),
        fragment: Some(wgpu::FragmentState {
            module,
            entry_point: Some(fragment),
            targets: &[Some(target)],
            compilation_options: wgpu::PipelineCompilationOptions::default(),
        }),
        multiview_mask: None,
        cache: None,
    })
}

fn f32_bytes(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

impl HeatmapResources {
    pub fn new(device: &wgpu::Device, target_format: wgpu::TextureFormat) -> Self {
        Self {
            pipelines: HeatmapPipelines::new(device, target_format),
            slots: HashMap::new(),
        }
    }

    /// Encodes the accumulation and the peak search of view `key` into `encoder`, and
    /// sets up its colour pass. Must run before [`Self::paint`] in the same frame.
    pub fn prepare(
        &mut self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        encoder: &mut wgpu::CommandEncoder,
        key: u64,
        input: &HeatmapInput,
        size_px: [u32; 2],
    ) {
        let size_px = [size_px[0].max(1), size_px[1].max(1)];
        if self
            .slots
            .get(&key)
            .is_none_or(|slot| slot.size_px != size_px)
        {
            let slot = self.pipelines.slot(device, size_px);
            self.slots.insert(key, slot);
        }
        let Some(slot) = self.slots.get(&key) else {
            return;
        };
        let [sx, sy] = input.sigma_image;
        queue.write_buffer(
            &slot.accumulate_uniform,
            0,
            &f32_bytes(&[sx, sy, EXTENT_SIGMAS, 0.0]),
        );
        let mut colorize = f32_bytes(&[input.opacity, ALPHA_RAMP]);
        colorize.extend(input.color_map.shader_index().to_le_bytes());
        colorize.extend(u32::from(self.pipelines.srgb_target).to_le_bytes());
        queue.write_buffer(&slot.colorize_uniform, 0, &colorize);
        encoder.clear_buffer(&slot.peak_buffer, 0, None);

        let kernels: Vec<f32> = input
            .kernels
            .iter()
            .flat_map(|k| [k.center_image[0], k.center_image[1], k.weight])
            .collect();
        let instances = device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some("heatmap-kernels"),
            contents: &f32_bytes(&kernels),
            usage: wgpu::BufferUsages::VERTEX,
        });
        {
            let mut pass = encoder.begin_render_pass(&wgpu::RenderPassDescriptor {
                label: Some("heatmap-accumulate"),
                color_attachments: &[Some(wgpu::RenderPassColorAttachment {
                    view: &slot.density_view,
                    resolve_target: None,
                    ops: wgpu::Operations {
                        load: wgpu::LoadOp::Clear(wgpu::Color::TRANSPARENT),
                        store: wgpu::StoreOp::Store,
                    },
                    depth_slice: None,
                })],
                ..Default::default()
            });
            if !input.kernels.is_empty() {
                pass.set_pipeline(&self.pipelines.accumulate);
                pass.set_bind_group(0, &slot.accumulate_bind, &[]);
                pass.set_vertex_buffer(0, instances.slice(..));
                pass.draw(0..6, 0..input.kernels.len() as u32);
            }
        }
        let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
            label: Some("heatmap-peak"),
            timestamp_writes: None,
        });
        pass.set_pipeline(&self.pipelines.peak);
        pass.set_bind_group(0, &slot.peak_bind, &[]);
        pass.dispatch_workgroups(size_px[0].div_ceil(16), size_px[1].div_ceil(16), 1);
    }

    /// Draws view `key`'s heat map over the pass's viewport (egui sets it to the
    /// callback's rectangle).
    pub fn paint(&self, pass: &mut wgpu::RenderPass<'_>, key: u64) {
        let Some(slot) = self.slots.get(&key) else {
            return;
        };
        pass.set_pipeline(&self.pipelines.colorize);
        pass.set_bind_group(0, &slot.colorize_bind, &[]);
        pass.draw(0..3, 0..1);
    }
}

/// The paint callback of one heat map: view `key` (unique among the views drawn in a
/// frame), its input, and the size of its density texture.
pub struct HeatmapCallback {
    pub key: u64,
    pub input: HeatmapInput,
    pub density_size_px: [u32; 2],
}

impl egui_wgpu::CallbackTrait for HeatmapCallback {
    fn prepare(
        &self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        _screen: &egui_wgpu::ScreenDescriptor,
        egui_encoder: &mut wgpu::CommandEncoder,
        resources: &mut egui_wgpu::CallbackResources,
    ) -> Vec<wgpu::CommandBuffer> {
        if let Some(heatmap) = resources.get_mut::<HeatmapResources>() {
            heatmap.prepare(
                device,
                queue,
                egui_encoder,
                self.key,
                &self.input,
                self.density_size_px,
            );
        }
        Vec::new()
    }

    fn paint(
        &self,
        _info: egui::PaintCallbackInfo,
        render_pass: &mut wgpu::RenderPass<'static>,
        resources: &egui_wgpu::CallbackResources,
    ) {
        if let Some(heatmap) = resources.get::<HeatmapResources>() {
            heatmap.paint(render_pass, self.key);
        }
    }
}
