echo "report for {{ ds }} ({{ ds_nodash }}) of {{ dag.dag_id }}"
echo "days={{ params.days }} env={{ params.env }} week later {{ macros.ds_add(ds, 7) }}"
