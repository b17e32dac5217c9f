# syntax=docker/dockerfile:1
# The training image: the whole pipeline (`eye-pipeline`: prepare -> train -> evaluate -> register -> promote ->
# export) or any other console script, and papermill with the training notebook. GPU by default.
#
#   docker build -f dockerfiles/train.Dockerfile -t eye-classifier-train .
#   docker run --rm --gpus all -v /path/to/eye_diseases:/srv/eye/data/raw:ro \
#     -v "$PWD/models:/srv/eye/models" -v "$PWD/runs:/srv/eye/runs" eye-classifier-train
#
# PyPI's Linux torch wheels bundle CUDA; build with --build-arg TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
# for a CPU-only image. Mounted folders must be writable by uid 10001 (or run with --user "$(id -u)").
FROM python:3.11.14-slim@sha256:c8271b1f627d0068857dce5b53e14a9558603b527e46f1f901722f935b786a39

ARG TORCH_INDEX_URL=https://pypi.org/simple
ARG TORCH_VERSION=2.14.1
ARG TORCHVISION_VERSION=0.29.1

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    EYE_HOME=/srv/eye

RUN groupadd --gid 10001 app && useradd --create-home --uid 10001 --gid 10001 --shell /usr/sbin/nologin app

WORKDIR /opt/eye_classifier

# Dependencies in their own layer: pyproject.toml and a stub package, so changing the code does not reinstall torch.
COPY pyproject.toml ./
RUN mkdir eye_classifier \
 && echo '__version__ = "0.0.0"' > eye_classifier/__init__.py \
 && touch README.md \
 && pip install "torch==${TORCH_VERSION}" "torchvision==${TORCHVISION_VERSION}" --index-url "${TORCH_INDEX_URL}" \
 && pip install . \
 && pip uninstall -y eye_classifier \
 && rm -rf eye_classifier README.md

COPY README.md LICENSE ./
COPY eye_classifier ./eye_classifier
RUN pip install --no-deps . \
 && eye-pipeline --help > /dev/null \
 && eye-train --help > /dev/null \
 && mkdir -p /srv/eye/data/raw /srv/eye/models /srv/eye/runs /srv/eye/reports \
 && chown -R 10001:10001 /srv/eye

WORKDIR /srv/eye
COPY --chown=10001:10001 configs ./configs
COPY --chown=10001:10001 nbs/pipelines/train.ipynb ./nbs/pipelines/train.ipynb

USER 10001:10001

CMD ["eye-pipeline", "--raw", "data/raw", "--processed", "data/processed"]
