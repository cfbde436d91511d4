"""Two @task functions passing a value through XCom."""

from datetime import UTC, datetime

from flow.sdk import dag, task


@dag(schedule=None, start_date=datetime(2024, 1, 1, tzinfo=UTC), tags=["example"])
def example_taskflow():
    @task
    def extract() -> dict:
        return {"orders": [3, 5, 8]}

    @task
    def total(data: dict) -> int:
        value = sum(data["orders"])
        print(f"total is {value}")
        return value

    total(extract())


example_taskflow()
