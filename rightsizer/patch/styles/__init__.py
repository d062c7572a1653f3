"""Edit styles: one class per kind of place a container's resources are set.

An in-place style (``InPlaceStyle``) both edits the text and states the data the edit
must produce, side by side, so the verifier needs no knowledge of any style:

* ``container.py``: a container of a manifest; of a strategic-merge patch (a removal is a
  ``null``); or added to a patch that does not name it yet;
* ``values.py``: a Helm values mapping holding ``resources``;
* ``json6902.py``: a JSON 6902 operation list;
* ``template.py``: a ``resources:`` block a chart's template writes as literal YAML (the
  template is not YAML, so it has its own text-side check);
* ``postrender.py``: a Flux HelmRelease's post-renderer patch, for a container of a published
  chart that its values do not size;
* ``newpatch.py``: a new patch file in an overlay (written whole, not edited in place).
"""

from rightsizer.patch.styles.base import EditStyle, InPlaceStyle, dump_yaml, intend_container
from rightsizer.patch.styles.newpatch import NewPatchStyle

__all__ = ["EditStyle", "InPlaceStyle", "NewPatchStyle", "dump_yaml", "intend_container"]
