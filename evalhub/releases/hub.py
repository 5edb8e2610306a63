"""Push a ready release to a Hugging Face-compatible hub: huggingface_hub's create_repo,
upload_folder (one commit with every file of the release) and a `v<N>` tag on that commit.
Used only where the researcher configured one (HF_TOKEN; HF_ENDPOINT for another hub)."""

from __future__ import annotations

from django.conf import settings

from evalhub.releases.models import Release


class ReleasePushError(ValueError):
    """No hub is configured, or the release is not ready."""


def hub_configured() -> bool:
    return bool(settings.HF_TOKEN)


def release_push(*, release: Release, repo_id: str) -> str:
    """Upload the release folder to dataset repo `repo_id` (made private if new) and tag the
    commit `v<version>`. Returns "<repo_id>@<commit>", also stored on the release."""
    from huggingface_hub import HfApi  # the hub client, only when a push is asked for

    if not hub_configured():
        raise ReleasePushError("hub_repo: no hub is configured (set HF_TOKEN)")
    if release.status != Release.Status.READY:
        raise ReleasePushError(f"release v{release.version} is {release.status}, not ready")
    api = HfApi(endpoint=settings.HF_ENDPOINT, token=settings.HF_TOKEN)
    api.create_repo(repo_id, repo_type="dataset", exist_ok=True, private=True)
    commit = api.upload_folder(
        folder_path=release.path,
        repo_id=repo_id,
        repo_type="dataset",
        commit_message=f"{release.study.slug} v{release.version}",
    )
    api.create_tag(repo_id, tag=f"v{release.version}", revision=commit.oid, repo_type="dataset")
    pushed = f"{repo_id}@{commit.oid}"
    Release.objects.filter(pk=release.pk).update(pushed_to=pushed)
    return pushed
