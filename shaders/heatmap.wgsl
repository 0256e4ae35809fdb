// The fixation heat map (scanscribe replay). Three stages, run by
// src/ui/replay/heatmap/gpu.rs through an egui_wgpu paint callback:
//
// 1. vs_kernel/fs_kernel: one instanced quad per fixation, EXTENT_SIGMAS sigmas wide,
//    adds weight * exp(-d²/2) (d in sigmas) into an R16Float density texture
//    (additive blending). The texture covers the stimulus image.
// 2. cs_peak: the density's maximum, as an atomic max over the float bits (positive
//    floats order like their bit patterns).
// 3. vs_fullscreen/fs_colorize: in egui's render pass, over the image's rectangle:
//    density / peak → colour map → premultiplied colour with the opacity ramp.
//
// The CPU reference (heatmap/cpu.rs) computes the same thing; the tests compare them.

struct Accumulate {
    sigma_image: vec2<f32>,
    extent_sigmas: f32,
    _pad: f32,
};

@group(0) @binding(0) var<uniform> acc: Accumulate;

struct KernelOut {
    @builtin(position) position: vec4<f32>,
    @location(0) offset_sigmas: vec2<f32>,
    @location(1) weight: f32,
};

@vertex
fn vs_kernel(
    @builtin(vertex_index) vertex: u32,
    @location(0) center_image: vec2<f32>,
    @location(1) weight: f32,
) -> KernelOut {
    var corners = array<vec2<f32>, 6>(
        vec2<f32>(-1.0, -1.0), vec2<f32>(1.0, -1.0), vec2<f32>(1.0, 1.0),
        vec2<f32>(-1.0, -1.0), vec2<f32>(1.0, 1.0), vec2<f32>(-1.0, 1.0),
    );
    let offset = corners[vertex] * acc.extent_sigmas;
    let p = center_image + offset * acc.sigma_image;
    var out: KernelOut;
    out.position = vec4<f32>(p.x * 2.0 - 1.0, 1.0 - p.y * 2.0, 0.0, 1.0);
    out.offset_sigmas = offset;
    out.weight = weight;
    return out;
}

@fragment
fn fs_kernel(in: KernelOut) -> @location(0) vec4<f32> {
    let d2 = dot(in.offset_sigmas, in.offset_sigmas);
    return vec4<f32>(in.weight * exp(-0.5 * d2), 0.0, 0.0, 0.0);
}

@group(0) @binding(1) var peak_density: texture_2d<f32>;
@group(0) @binding(2) var<storage, read_write> peak_bits: atomic<u32>;

@compute @workgroup_size(16, 16)
fn cs_peak(@builtin(global_invocation_id) id: vec3<u32>) {
    let size = textureDimensions(peak_density);
    if (id.x >= size.x || id.y >= size.y) {
        return;
    }
    let v = max(textureLoad(peak_density, vec2<i32>(id.xy), 0).r, 0.0);
    atomicMax(&peak_bits, bitcast<u32>(v));
}

struct Colorize {
    opacity: f32,
    alpha_ramp: f32,
    color_map: u32,
    srgb_target: u32,
};

@group(0) @binding(3) var density: texture_2d<f32>;
@group(0) @binding(4) var density_sampler: sampler;
@group(0) @binding(5) var<uniform> col: Colorize;
@group(0) @binding(6) var<storage, read> peak: u32;

struct FullscreenOut {
    @builtin(position) position: vec4<f32>,
    @location(0) uv: vec2<f32>,
};

@vertex
fn vs_fullscreen(@builtin(vertex_index) vertex: u32) -> FullscreenOut {
    // One triangle covering the viewport (egui sets it to the callback's rectangle).
    let uv = vec2<f32>(f32((vertex << 1u) & 2u), f32(vertex & 2u));
    var out: FullscreenOut;
    out.position = vec4<f32>(uv.x * 2.0 - 1.0, 1.0 - uv.y * 2.0, 0.0, 1.0);
    out.uv = uv;
    return out;
}

fn viridis(t: f32) -> vec3<f32> {
    let c0 = vec3<f32>(0.27772733, 0.0054073445, 0.3340998);
    let c1 = vec3<f32>(0.10509304, 1.4046135, 1.3845902);
    let c2 = vec3<f32>(-0.33086183, 0.21484756, 0.09509516);
    let c3 = vec3<f32>(-4.6342306, -5.799101, -19.332441);
    let c4 = vec3<f32>(6.22827, 14.179933, 56.69055);
    let c5 = vec3<f32>(4.776385, -13.745145, -65.353035);
    let c6 = vec3<f32>(-5.435456, 4.6458526, 26.312435);
    return c0 + t * (c1 + t * (c2 + t * (c3 + t * (c4 + t * (c5 + t * c6)))));
}

fn inferno(t: f32) -> vec3<f32> {
    let c0 = vec3<f32>(0.00021894037, 0.0016510046, -0.019480898);
    let c1 = vec3<f32>(0.10651342, 0.5639564, 3.9327124);
    let c2 = vec3<f32>(11.602493, -3.972854, -15.942394);
    let c3 = vec3<f32>(-41.703995, 17.4364, 44.354145);
    let c4 = vec3<f32>(77.16294, -33.40236, -81.80731);
    let c5 = vec3<f32>(-71.31943, 32.626064, 73.20952);
    let c6 = vec3<f32>(25.131126, -12.242669, -23.070325);
    return c0 + t * (c1 + t * (c2 + t * (c3 + t * (c4 + t * (c5 + t * c6)))));
}

fn linear_from_srgb(c: vec3<f32>) -> vec3<f32> {
    let low = c / 12.92;
    let high = pow((c + 0.055) / 1.055, vec3<f32>(2.4));
    return select(high, low, c <= vec3<f32>(0.04045));
}

@fragment
fn fs_colorize(in: FullscreenOut) -> @location(0) vec4<f32> {
    let peak_value = bitcast<f32>(peak);
    var v = 0.0;
    if (peak_value > 0.0) {
        v = clamp(textureSample(density, density_sampler, in.uv).r / peak_value, 0.0, 1.0);
    }
    var rgb: vec3<f32>;
    if (col.color_map == 1u) {
        rgb = inferno(v);
    } else {
        rgb = viridis(v);
    }
    rgb = clamp(rgb, vec3<f32>(0.0), vec3<f32>(1.0));
    if (col.srgb_target == 1u) {
        rgb = linear_from_srgb(rgb);
    }
    let alpha = clamp(col.opacity, 0.0, 1.0) * min(v / col.alpha_ramp, 1.0);
    return vec4<f32>(rgb * alpha, alpha);
}
