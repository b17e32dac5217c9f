# syntax=docker/dockerfile:1
# The serving image: `eye-serve` (Gradio demo at /, REST API at /v1, GET /health) on port 7860, CPU only.
#
#   docker build -f dockerfiles/api.Dockerfile -t eye-classifier-api .
#   docker run --rm -p 7860:7860 -v "$PWD/models:/srv/eye/models:ro" eye-classifier-api
#
# The model registry (models/, written by `make run` or the train workflow) is mounted, not baked in: the image is the
# same for every model version, and the production alias decides what it serves. The prediction log is written to
# /srv/eye/reports (mount a volume there to keep it).
FROM python:3.11.14-slim@sha256:c8271b1f627d0068857dce5b53e14a9558603b527e46f1f901722f935b786a39

ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
# Must equal the versions in requirements-runtime.lock.
ARG TORCH_VERSION=2.14.1
ARG TORCHVISION_VERSION=0.29.1

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    GRADIO_ANALYTICS_ENABLED=False \
    EYE_HOME=/srv/eye

RUN groupadd --gid 10001 app && useradd --create-home --uid 10001 --gid 10001 --shell /usr/sbin/nologin app

WORKDIR /opt/eye_classifier

# Dependencies in their own layer, from the lock, so changing the code does not reinstall torch. The lock pins PyPI's
# torch (CUDA bundled); this CPU image takes torch and torchvision at the same versions from the CPU index instead and
# every other locked package hash-checked, leaving out the CUDA libraries.
COPY requirements-runtime.lock ./
RUN pip install "torch==${TORCH_VERSION}" "torchvision==${TORCHVISION_VERSION}" --index-url "${TORCH_INDEX_URL}" \
 && awk '/^[a-z0-9]/ { skip = ($0 ~ /^(torch|torchvision|triton|nvidia-[a-z0-9-]+|cuda-[a-z0-9-]+)==/) } !skip' \
      requirements-runtime.lock > /tmp/cpu.lock \
 && pip install --require-hashes --no-deps -r /tmp/cpu.lock \
 && rm /tmp/cpu.lock

COPY pyproject.toml README.md LICENSE ./
COPY eye_classifier ./eye_classifier
RUN pip install --no-deps . \
 && eye-serve --help > /dev/null \
 && mkdir -p /srv/eye/models /srv/eye/reports \
 && chown -R 10001:10001 /srv/eye

USER 10001:10001
WORKDIR /srv/eye
EXPOSE 7860

# Healthy only while a model is served: /health answers 503 {"status": "no_model"} until the registry has one.
HEALTHCHECK --interval=30s --timeout=5s --start-period=90s --retries=3 \
  CMD ["python", "-c", "import json, urllib.request as u; r = json.load(u.urlopen('http://127.0.0.1:7860/health', timeout=4)); raise SystemExit(r.get('status') != 'ok')"]

CMD ["eye-serve", "--host", "0.0.0.0", "--port", "7860"]
