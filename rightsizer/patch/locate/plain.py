"""Plain manifests, applied as they are: matched by kind, name, namespace and container."""

from __future__ import annotations

from rightsizer.history import ContainerKey
from rightsizer.patch.locate.repofiles import RepoFiles, WorkloadObject
from rightsizer.patch.styles.container import CONTAINER
from rightsizer.patch.target import Target


class PlainLayout:
    def __init__(self, files: RepoFiles):
        self.files = files

    def find(self, obj: WorkloadObject, key: ContainerKey, init: bool) -> Target | None:
        """The container in this object (the caller decides whether its namespace is the key's)."""
        if self.files.has_container(obj, key.container, init):
            return Target(obj.file, obj.doc, self.files.container_path(obj, key.container, init), CONTAINER,
                          f"{obj.kind} manifest")
        return None
