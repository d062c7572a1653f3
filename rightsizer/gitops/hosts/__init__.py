"""Code hosts, one module each; a module registers its class with ``provider.register``.

Adding a host is one new module here: ``provider.hosts()`` imports every module of this
package, so nothing else needs to name it.
"""
