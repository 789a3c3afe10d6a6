"""Theory exams (理论机考): question banks, exams, sittings, grading into the theory stage, proctoring."""
