import { usdToMicros } from "../../lib/money.js";

/**
 * The catalog a fresh install starts with: every id the seeds name (000's plans `GPU.H100.1x`, 001's cluster types
 * `1H100.80S.30V`, the templates and images of both quickstarts) and the common NVIDIA data-centre GPUs in
 * 1×/2×/4×/8× sizes. Operators change it through the API afterwards; loading it again never overwrites their edits.
 */
export const defaultRegions = [
  { id: "FIN-01", name: "Helsinki, Finland", country: "FI" },
  { id: "ICE-01", name: "Keflavik, Iceland", country: "IS" },
  { id: "eu-central-1", name: "Frankfurt, Germany", country: "DE" },
  { id: "us-east-1", name: "Ashburn, Virginia, USA", country: "US" },
];

interface GpuFamily {
  /** Model name as the fleet reports it (matched as a word against nvidia-smi names). */
  model: string;
  /** How the model appears in plan and cluster-type ids. */
  code: string;
  memoryGb: number;
  /** How the GPU is built in: seed 001's `1H100.80S.30V` is Verda's H100 SXM5; the RTX 6000 Ada is a PCIe card. */
  formFactor: "SXM" | "PCIe";
  pricePerGpuHourUsd: string;
  vcpusPerGpu: number;
  ramGbPerGpu: number;
  diskGbPerGpu: number;
  /** 1 = per second (seed 001), 60 = per minute (seed 000). */
  granularitySeconds: number;
}

// Per-GPU-hour list prices in line with the public GPU clouds in 2025.
// Blackwell and RTX 6000 are sold by the minute with a one-minute minimum, the rest by the second.
export const gpuFamilies: GpuFamily[] = [
  {
    model: "H100",
    formFactor: "SXM",
    code: "H100",
    memoryGb: 80,
    pricePerGpuHourUsd: "2.49",
    vcpusPerGpu: 30,
    ramGbPerGpu: 120,
    diskGbPerGpu: 80,
    granularitySeconds: 1,
  },
  {
    model: "H200",
    formFactor: "SXM",
    code: "H200",
    memoryGb: 141,
    pricePerGpuHourUsd: "3.29",
    vcpusPerGpu: 44,
    ramGbPerGpu: 185,
    diskGbPerGpu: 100,
    granularitySeconds: 1,
  },
  {
    model: "B200",
    formFactor: "SXM",
    code: "B200",
    memoryGb: 180,
    pricePerGpuHourUsd: "4.99",
    vcpusPerGpu: 30,
    ramGbPerGpu: 184,
    diskGbPerGpu: 200,
    granularitySeconds: 60,
  },
  {
    model: "A100",
    formFactor: "SXM",
    code: "A100",
    memoryGb: 80,
    pricePerGpuHourUsd: "1.29",
    vcpusPerGpu: 22,
    ramGbPerGpu: 120,
    diskGbPerGpu: 80,
    granularitySeconds: 1,
  },
  {
    model: "RTX 6000",
    formFactor: "PCIe",
    code: "RTX6000",
    memoryGb: 48,
    pricePerGpuHourUsd: "0.79",
    vcpusPerGpu: 10,
    ramGbPerGpu: 60,
    diskGbPerGpu: 50,
    granularitySeconds: 60,
  },
];

export const defaultSizes = [1, 2, 4, 8];

export function defaultInstanceTypes() {
  return gpuFamilies.flatMap((f) =>
    defaultSizes.map((n) => {
      const pricePerHourMicros = usdToMicros(f.pricePerGpuHourUsd) * BigInt(n);
      const id = `${f.code.toLowerCase()}-${f.memoryGb}gb-${n}x`;
      const disk = f.diskGbPerGpu * n;
      const vcpus = f.vcpusPerGpu * n;
      return {
        type: {
          id,
          name: `${n}× ${f.model} ${f.memoryGb} GB`,
          gpuModel: f.model,
          gpuMemoryGb: f.memoryGb,
          gpuFormFactor: f.formFactor,
          gpuCount: n,
          vcpus,
          ramGb: f.ramGbPerGpu * n,
          diskGb: disk,
          pricePerHourMicros,
          billingGranularitySeconds: f.granularitySeconds,
          // A per-minute type charges at least one minute per run.
          minimumChargeMicros: f.granularitySeconds === 60 ? pricePerHourMicros / 60n : 0n,
        },
        aliases: [
          { alias: `GPU.${f.code}.${n}x`, kind: "plan" },
          // Seed 001: "1H100.80S.30V = 1x H100, 80GB SSD, 30 vCPUs".
          { alias: `${n}${f.code}.${disk}S.${vcpus}V`, kind: "cluster_type" },
        ],
      };
    }),
  );
}

/** Regional prices that differ from the list price (cheaper hydro power in Iceland, dearer capacity in Virginia). */
export const defaultRegionPrices = [
  { family: "H100", regionId: "ICE-01", pricePerGpuHourUsd: "2.29" },
  { family: "H100", regionId: "us-east-1", pricePerGpuHourUsd: "2.69" },
  { family: "H200", regionId: "us-east-1", pricePerGpuHourUsd: "3.49" },
];

const allModels = gpuFamilies.map((f) => f.model);
const preBlackwell = allModels.filter((m) => m !== "B200");

/** RunPod's own PyTorch image (CUDA 12.4.1, Ubuntu 22.04, sshd installing PUBLIC_KEY): its templates' default. */
const RUNPOD_PYTORCH_CUDA_12_4 = "runpod/pytorch:2.4.0-py3.11-cuda12.4.1-devel-ubuntu22.04";

/**
 * E2E Networks' Ubuntu 22.04 image of its GPU OS row (the `image` its `GET /images/` plans name; the node comes with
 * the NVIDIA driver, not with PyTorch: an operator with an E2E image that has it maps it in `upstream_images`).
 */
const E2E_UBUNTU_22_04 = "Ubuntu-22.04-Distro";

/**
 * Each image carries what each resold cloud launches for it (`upstreamImages`): Verda's `image_type` (GET /images),
 * Lambda's image `family` (GET /images; the launch takes `image: {family}`), RunPod's container image name. Only
 * what matches the image's OS and CUDA is mapped; a cloud missing from the map does not sell the image (RunPod, which
 * runs any container image, falls back to the image's `ociRef`). Blackwell (B200) needs CUDA 12.8 or newer, so older
 * images do not list it.
 */
export const defaultImages = [
  {
    id: "pytorch-cuda",
    upstreamImages: {
      verda: "ubuntu-22.04-cuda-12.4-docker",
      lambda: "lambda-stack-22-04",
      runpod: RUNPOD_PYTORCH_CUDA_12_4,
      e2e: E2E_UBUNTU_22_04,
    } as Record<string, string>,
    ociRef: "docker.io/pytorch/pytorch:2.7.0-cuda12.8-cudnn9-runtime",
    name: "PyTorch 2.7 + CUDA 12.8",
    os: "Ubuntu 22.04",
    cudaVersion: "12.8",
    description: "PyTorch, cuDNN and NCCL preinstalled; Jupyter on port 8888",
    compatibleGpus: allModels,
  },
  {
    id: "ubuntu-22.04-cuda-12.4-cluster",
    upstreamImages: {
      verda: "ubuntu-22.04-cuda-12.4-docker",
      lambda: "lambda-stack-22-04",
      runpod: RUNPOD_PYTORCH_CUDA_12_4,
      e2e: E2E_UBUNTU_22_04,
    } as Record<string, string>,
    ociRef: "docker.io/nvidia/cuda:12.4.1-cudnn-devel-ubuntu22.04",
    name: "Ubuntu 22.04 + CUDA 12.4 (cluster)",
    os: "Ubuntu 22.04",
    cudaVersion: "12.4",
    description: "Bare-metal image with NVIDIA driver 550, CUDA 12.4, InfiniBand and NCCL",
    compatibleGpus: preBlackwell,
  },
  {
    id: "ubuntu-24.04-cuda-12.8-cluster",
    upstreamImages: { verda: "ubuntu-24.04-cuda-12.8-open-docker", lambda: "lambda-stack-24-04" } as Record<
      string,
      string
    >,
    ociRef: "docker.io/nvidia/cuda:12.8.1-cudnn-devel-ubuntu24.04",
    name: "Ubuntu 24.04 + CUDA 12.8 (cluster)",
    os: "Ubuntu 24.04",
    cudaVersion: "12.8",
    description: "Bare-metal image with NVIDIA driver 570, CUDA 12.8, InfiniBand and NCCL",
    compatibleGpus: allModels,
  },
  {
    id: "ubuntu-22.04-cuda-12.1",
    upstreamImages: { runpod: "runpod/pytorch:2.1.0-py3.10-cuda12.1.1-devel-ubuntu22.04" } as Record<string, string>,
    ociRef: "docker.io/nvidia/cuda:12.1.1-devel-ubuntu22.04",
    name: "Ubuntu 22.04 + CUDA 12.1",
    os: "Ubuntu 22.04",
    cudaVersion: "12.1",
    description: "Minimal image with the NVIDIA driver and CUDA toolkit",
    compatibleGpus: preBlackwell,
  },
  {
    id: "tensorflow-cuda",
    upstreamImages: { lambda: "lambda-stack-22-04" } as Record<string, string>,
    ociRef: "docker.io/tensorflow/tensorflow:2.16.1-gpu",
    name: "TensorFlow 2.16 + CUDA 12.3",
    os: "Ubuntu 22.04",
    cudaVersion: "12.3",
    description: "TensorFlow with GPU support and Jupyter",
    compatibleGpus: preBlackwell,
  },
  {
    id: "vllm-cuda",
    upstreamImages: {} as Record<string, string>,
    ociRef: "docker.io/vllm/vllm-openai:v0.9.0",
    name: "vLLM 0.9 + CUDA 12.8",
    os: "Ubuntu 22.04",
    cudaVersion: "12.8",
    description: "vLLM OpenAI-compatible server on port 8000",
    compatibleGpus: ["H100", "H200", "B200", "A100"],
  },
];

/** Bare-metal cluster images log in as root (seed 001: `ssh root@<ip>`); the others as ubuntu. */
export function sshUserForImage(imageId: string): string {
  return imageId.endsWith("-cluster") ? "root" : "ubuntu";
}

/** The default catalog's cloud image names, for rows that predate upstream_images or never set them. */
export function defaultUpstreamImages(imageId: string): Record<string, string> {
  return defaultImages.find((i) => i.id === imageId)?.upstreamImages ?? {};
}
