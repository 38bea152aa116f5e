-- Every execution's project exists in dim_projects.
with

executions as (

    select * from {{ ref('fct_cli_executions') }}

),

projects as (

    select * from {{ ref('dim_projects') }}

)

select
    executions.execution_id,
    executions.project_id
from executions
left join projects
    on executions.project_id = projects.project_id
where projects.project_id is null
