{#-
    Shared error for engine macros without an implementation for the current adapter.
    Every engine macro's default__ version calls it, so a new warehouse fails at compile
    time with the macro name and where to add the missing version.
-#}
{% macro engine_not_implemented(macro_name) -%}
    {{ exceptions.raise_compiler_error(
        macro_name ~ " is not implemented for adapter " ~ adapter.type()
        ~ " yet: add a " ~ adapter.type() ~ "__" ~ macro_name
        ~ " version in macros/engine/" ~ macro_name ~ ".sql"
    ) }}
{%- endmacro %}
